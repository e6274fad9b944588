-- Bulk eligibility: POST /v1/consents/eligibility with the pre-built body (BENCH_BODY).
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
local bench = require("common")
bench.fixed("POST", "/v1/consents/eligibility")
