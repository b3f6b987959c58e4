-- One decision of Sluicegate's sliding-window-log limiter, run atomically by Redis.
--
-- KEYS[1]   the client's hash (below)
-- ARGV[1]   0 peek, 1 check (record if admitted), 2 record (whatever the limits say)
-- ARGV[2]   cost
-- ARGV[3]   now, in microseconds since the Unix epoch; "" for the server's clock
-- ARGV[4]   time to live of the hash after a write, in milliseconds
-- ARGV[5..] limit and length (microseconds) of every window, in the caller's order
--
-- The hash is the client's log plus one cursor per window, so a check reads the few entries
-- that leave a window since the last check, never the whole log:
--   n       number the next entry gets (entries are numbered 0, 1, ... as they are appended)
--   t       time of the newest entry; no decision is made earlier than that
--   c<i>    number of the oldest entry still inside window i (n when the window is empty)
--   s<i>    sum of the costs of entries c<i> .. n-1
--   x<i>    time of entry c<i>; absent when the window is empty
--   <k>     entry k: "<time>" when it cost 1, "<time> <cost>" otherwise
-- Entries that have left every window are deleted as the cursors pass them.
--
-- Every number written is formatted with %d: Redis turns a Lua number argument into text with
-- 17 significant digits or an exponent, which is not how a time should round-trip.
--
-- Returns {fits (0/1), retry_after, now, used_1, oldest_1, used_2, oldest_2, ...}: whether the
-- request fitted every window, when it would (0 if it did), the time used, and per window its
-- usage (counting the request when it was recorded, or for a peek that fits) and the time of
-- its oldest entry (-1 when empty).

local key = KEYS[1]
local mode = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local count = (#ARGV - 4) / 2

local names = {'n', 't'}
for i = 1, count do
  names[#names + 1] = 'c' .. i
  names[#names + 1] = 's' .. i
  names[#names + 1] = 'x' .. i
end
local state = redis.call('HMGET', key, unpack(names))
local n = tonumber(state[1]) or 0
local newest = tonumber(state[2])

local now
if ARGV[3] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
else
  now = tonumber(ARGV[3])
end
if newest and now < newest then
  now = newest
end

local times, costs = {}, {}
local function read(k)
  if times[k] then
    return
  end
  local value = redis.call('HGET', key, string.format('%d', k))
  if not value then
    error({err = 'sluicegate: entry ' .. k .. ' of ' .. key .. ' is missing'})
  end
  local space = string.find(value, ' ', 1, true)
  if space then
    times[k] = tonumber(string.sub(value, 1, space - 1))
    costs[k] = tonumber(string.sub(value, space + 1))
  else
    times[k] = tonumber(value)
    costs[k] = 1
  end
end

-- Move every window's cursor past the entries that have left it.
local windows = {}
local fits = true
local first = n
for i = 1, count do
  local w = {
    limit = tonumber(ARGV[3 + 2 * i]),
    span = tonumber(ARGV[4 + 2 * i]),
    cursor = tonumber(state[3 * i]) or n,
    used = tonumber(state[3 * i + 1]) or 0,
    oldest = tonumber(state[3 * i + 2]),
  }
  if w.cursor < first then
    first = w.cursor
  end
  while w.oldest and w.oldest + w.span <= now do
    read(w.cursor)
    w.used = w.used - costs[w.cursor]
    w.cursor = w.cursor + 1
    if w.cursor < n then
      read(w.cursor)
      w.oldest = times[w.cursor]
    else
      w.oldest = nil
    end
  end
  if w.used + cost > w.limit then
    fits = false
  end
  windows[i] = w
end

-- When it does not fit: the latest, over the windows, of the moment enough of the window's
-- oldest entries have left it. Usage only falls as time passes, so that moment fits them all.
local retry = 0
if not fits then
  local at = now
  for _, w in ipairs(windows) do
    local need = w.used + cost - w.limit
    local k = w.cursor
    while need > 0 do
      read(k)
      need = need - costs[k]
      if times[k] + w.span > at then
        at = times[k] + w.span
      end
      k = k + 1
    end
  end
  retry = at - now
end

local record = mode == 2 or (mode == 1 and fits)
if record or (mode == 0 and fits) then
  for _, w in ipairs(windows) do
    w.used = w.used + cost
    if not w.oldest then
      w.cursor = n
      w.oldest = now
    end
  end
end

if record then
  local writes = {}
  if newest == now then
    -- Same microsecond as the newest entry: it absorbs the cost, and stays in every window.
    read(n - 1)
    writes[1] = string.format('%d', n - 1)
    writes[2] = string.format('%d %d', now, costs[n - 1] + cost)
  else
    writes[1] = string.format('%d', n)
    writes[2] = cost == 1 and string.format('%d', now) or string.format('%d %d', now, cost)
    n = n + 1
  end
  local last = n
  for i, w in ipairs(windows) do
    local at = #writes
    writes[at + 1] = 'c' .. i
    writes[at + 2] = string.format('%d', w.cursor)
    writes[at + 3] = 's' .. i
    writes[at + 4] = string.format('%d', w.used)
    writes[at + 5] = 'x' .. i
    writes[at + 6] = string.format('%d', w.oldest)
    if w.cursor < last then
      last = w.cursor
    end
  end
  local at = #writes
  writes[at + 1] = 'n'
  writes[at + 2] = string.format('%d', n)
  writes[at + 3] = 't'
  writes[at + 4] = string.format('%d', now)
  redis.call('HSET', key, unpack(writes))
  if last > first then
    local gone = {}
    for k = first, last - 1 do
      gone[#gone + 1] = string.format('%d', k)
    end
    redis.call('HDEL', key, unpack(gone))
  end
  redis.call('PEXPIRE', key, ARGV[4])
end

local out = {fits and 1 or 0, retry, now}
for _, w in ipairs(windows) do
  out[#out + 1] = w.used
  out[#out + 1] = w.oldest or -1
end
return out
