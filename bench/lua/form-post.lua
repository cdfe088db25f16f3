-- wrk script used by every benchmark (bench/lib.ts runWrk): a form POST of the BODY environment
-- variable (a GET when BODY is empty) with an optional Basic AUTH header, and a count of the
-- answers by HTTP status over all of wrk's threads. wrk's own "Non-2xx or 3xx responses" line
-- counts only statuses >= 400 (and only prints when there are some); this counts every status,
-- so bench/lib.ts can count 2xx alone as throughput and fail on anything else. done() prints:
--   STATUSES 200=41234 429=12
--   SUMMARY requests=41246 duration_us=10001234 connect=0 read=0 write=0 timeout=0
local body = os.getenv("BODY")
if body and #body > 0 then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local auth = os.getenv("AUTH")
if auth and #auth > 0 then wrk.headers["Authorization"] = "Basic " .. auth end

-- each wrk thread runs its own copy of this script: `statuses` is that thread's count, read back
-- from the main script in done() through thread:get
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses")
    for status, n in pairs(counted) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, string.format("%d=%d", status, n)) end
  table.sort(parts)
  io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
  local e = summary.errors
  io.write(string.format("SUMMARY requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout))
end
