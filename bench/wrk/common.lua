-- Shared by every wrk scenario: the token, random ids from a sample file, counting of every
-- non-2xx response (wrk itself only counts >= 400), and a machine-readable result file.
--
-- Environment (set by bench/run.sh):
--   BENCH_TOKEN   the bearer token
--   BENCH_IDS     file of subject ids, one per line (requests pick one at random)
--   BENCH_BODY    file holding a fixed request body (the eligibility request)
--   BENCH_RESULT  where done() writes key=value lines
--   BENCH_PURPOSE the X-Access-Purpose header (default "benchmark"; bench/registers.sh names an
--                 activity)

local M = {}

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then
    error("cannot open " .. tostring(path) .. ": " .. tostring(err))
  end
  local data = f:read("*a")
  f:close()
  return data
end

local function read_ids(path)
  local ids = {}
  for line in io.lines(path) do
    if #line > 0 then
      ids[#ids + 1] = line
    end
  end
  if #ids == 0 then
    error("no ids in " .. path)
  end
  return ids
end

local function env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set")
  end
  return value
end

-- Per-thread state (each wrk thread has its own Lua state).
non2xx = 0
first_bad = ""
local ids
local headers

-- Main state: the threads, so that done() can add up their counters.
local threads = {}
local next_thread = 1

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function response(status, _, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 300):gsub("%s+", " ")
    end
  end
end

function done(summary, latency, _)
  local bad, first = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local f = thread:get("first_bad") or ""
    if first == "" and f ~= "" then
      first = f
    end
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local lines = {
    "requests=" .. summary.requests,
    "duration_s=" .. string.format("%.3f", seconds),
    "rps=" .. string.format("%.1f", summary.requests / seconds),
    "p50_ms=" .. string.format("%.3f", latency:percentile(50) / 1000),
    "p90_ms=" .. string.format("%.3f", latency:percentile(90) / 1000),
    "p99_ms=" .. string.format("%.3f", latency:percentile(99) / 1000),
    "max_ms=" .. string.format("%.3f", latency.max / 1000),
    "mean_ms=" .. string.format("%.3f", latency.mean / 1000),
    "non2xx=" .. bad,
    "socket_errors=" .. (e.connect + e.read + e.write + e.timeout),
    "timeouts=" .. e.timeout,
    "first_bad=" .. first,
  }
  local out = os.getenv("BENCH_RESULT")
  local text = table.concat(lines, "\n") .. "\n"
  if out and out ~= "" then
    local f = assert(io.open(out, "w"))
    f:write(text)
    f:close()
  end
  io.write(text)
end

-- Requests to `pattern` (a path with one %s for the id) with a random id each; `body` optional.
function M.random_ids(method, pattern, body)
  function init(_)
    ids = read_ids(env("BENCH_IDS"))
    headers = {
      ["Authorization"] = "Bearer " .. env("BENCH_TOKEN"),
      ["X-Access-Purpose"] = os.getenv("BENCH_PURPOSE") or "benchmark",
    }
    if body then
      headers["Content-Type"] = "application/json"
    end
    math.randomseed(os.time() * 1000 + (thread_no or 0))
  end

  function request()
    local id = ids[math.random(#ids)]
    return wrk.format(method, string.format(pattern, id), headers, body)
  end
end

-- The same request every time, built once (a large fixed body such as the eligibility request).
function M.fixed(method, path)
  function init(_)
    wrk.method = method
    wrk.path = path
    wrk.body = read_file(env("BENCH_BODY"))
    wrk.headers["Authorization"] = "Bearer " .. env("BENCH_TOKEN")
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["X-Access-Purpose"] = "benchmark"
  end
end

-- Requests to a fixed `path`, each with a random bearer token from the file BENCH_IDS (one
-- token per line): persons' own tokens for /v1/me.
function M.random_tokens(method, path)
  function init(_)
    ids = read_ids(env("BENCH_IDS"))
    math.randomseed(os.time() * 1000 + (thread_no or 0))
  end

  function request()
    local token = ids[math.random(#ids)]
    return wrk.format(method, path, { ["Authorization"] = "Bearer " .. token })
  end
end

return M
