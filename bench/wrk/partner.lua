-- Partner read: GET /v1/partner/subjects/{id}, a random subject the bench partner is authorized for.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
local bench = require("common")
bench.random_ids("GET", "/v1/partner/subjects/%s")
