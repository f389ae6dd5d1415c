-- wrk script for bench/server: POSTs batches of 100 new boot records to /api/v1/boots.
-- Each request carries ids no other request used, so every batch is a real insert.
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("thread_id", thread_id)
end

function init(args)
  token = os.getenv("BENCH_TOKEN")
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
  wrk.method = "POST"
end

function request()
  counter = counter + 1
  local records = {}
  for i = 1, 100 do
    records[i] = string.format(
      '{"id":"submit-%d-%d-%d","lab":"lab-bench","board":"board-%d","board_type":"type-%d","arch":"arm64",' ..
      '"defconfig":"defconfig","compiler":"gcc-12","tree":"mainline","branch":"submit","commit":"c%d",' ..
      '"describe":"v-submit-%d","started_at":"2026-11-30T00:00:00Z","status":"pass","boot_time_s":3.5}',
      thread_id, counter, i, i, i % 30, counter, counter)
  end
  return wrk.format(nil, "/api/v1/boots", nil, "[" .. table.concat(records, ",") .. "]")
end
