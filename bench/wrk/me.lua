-- The person's own read: GET /v1/me with a random person's token from the sample.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
local bench = require("common")
bench.random_tokens("GET", "/v1/me")
