-- One subject's access-log page: GET /v1/subjects/{id}/access-logs?limit=100, a random hot subject.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
local bench = require("common")
bench.random_ids("GET", "/v1/subjects/%s/access-logs?limit=100")
