-- One GET, the same every time: BENCH_PATH with the bearer token BENCH_TOKEN (a person's view at
-- one connection, where the latency is what is measured).
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
require("common")
function init(_)
  wrk.method = "GET"
  wrk.path = os.getenv("BENCH_PATH")
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end
