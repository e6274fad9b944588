-- An access-log entry's inclusion proof at 10 million entries:
-- GET /v1/access-logs/{entry_id}/inclusion-proof, a random entry from the checkpointed tree.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
local bench = require("common")
bench.random_ids("GET", "/v1/access-logs/%s/inclusion-proof")
