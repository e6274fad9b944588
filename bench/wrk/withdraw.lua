-- Consent withdrawal: PUT /v1/subjects/{id}/consents/marketing_planpro, a random id from the sample.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
local bench = require("common")
bench.random_ids("PUT", "/v1/subjects/%s/consents/marketing_planpro", '{"status":"withdrawn","method":"api"}')
