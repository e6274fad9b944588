-- Audited subject read: GET /v1/subjects/{id}, a random id from the sample.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
local bench = require("common")
bench.random_ids("GET", "/v1/subjects/%s")
