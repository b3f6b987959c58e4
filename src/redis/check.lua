-- One decision of Sluicegate's sliding-window-log limiter, run atomically by Redis.
--
-- KEYS[1]   the client's state, a string (below), named `prefix{client}:<signature>`: the
--           limiter's prefix, the caller's key for the client between braces, and eight hex
--           digits naming the windows' lengths in order (src/redis/key.rs)
-- KEYS[2]   the client's older entries, a hash of chunks (below), named KEYS[1] .. ':log'. The
--           braces make the client the Redis Cluster hash tag: both keys live in one slot.
-- ARGV[1]   mode: 0 peek, 1 check (record if admitted), 2 record (whatever the limits say)
-- ARGV[2]   cost, from 1 to the smallest limit
-- ARGV[3]   now, in microseconds since the Unix epoch, from 0 to 2^52; "" for the server's
--           clock (TIME)
-- ARGV[4]   time to live after a write, in milliseconds, from 1 to 2^53 - 1
-- ARGV[5]   entries per chunk, from 1 to 2^53 - 1
-- ARGV[6..] every window's limit, from 1 to 2^53 - 1, and its length, in microseconds, from 1
--           to 2^52: one to eight windows, in the caller's order (the order the limiter's
--           builder was given them), which is the order of the state's cursors and of the reply
--
-- Numbers are whole numbers in decimal (anything Lua's tonumber reads as one is taken). Any
-- other argument is refused with an error reply `ERR sluicegate: ...`, before anything is read
-- or written: the caller checks its requests first, but anyone holding the script's digest can
-- call it, and a cost of 0, a negative cost (which would add budget), an unknown mode or a
-- window list out of step with the state would corrupt a client's log.
--
-- The client's log is numbered 0, 1, ... in arrival order. An entry is its time and its cost,
-- two big-endian doubles (exact for integers below 2^53), so nothing is formatted or parsed as
-- text. Chunk j is the span of numbers j*size .. j*size+size-1.
--
-- The state string is a head of numbers, then the entries f .. n-1 of the chunk being filled:
--   n           the number the next entry gets
--   t           the time of the newest entry (-1 if none); no decision is made earlier
--   f           the first entry the state holds (those before it in its chunk have left)
--   d           until when the hash is known to live (0: unknown)
--   c, u, x     per window: the number of its oldest entry (n when empty), the sum of the costs
--               of entries c .. n-1, and the time of entry c (-1 when empty)
-- When the chunk being filled is complete, its entries move to field j of the hash, after the
-- number of the first of them. Each window keeps a cursor and a running sum, so a check reads
-- only the entries that left a window since the last check: nothing beyond the state while
-- they are in it, one chunk otherwise. Entries that left every window are dropped from the
-- state when it is written, and a chunk is deleted once every cursor has passed it. The state's
-- time to live is reset by every write, so it expires when all it holds has left every window;
-- the hash lives at least as long (see d).
--
-- Returns {fits (0/1), retry_after, now, used_1, oldest_1, used_2, oldest_2, ...}: whether the
-- request fitted every window, when it would (0 if it did), the time used, and per window its
-- usage (counting the request when it was recorded, or for a peek that fits) and the time of
-- its oldest entry (-1 when empty).

-- The arguments, refused unless they are in range (above). NaN fails every comparison,
-- infinities a bound, fractions `% 1 == 0`. The range tests are spelled out rather than
-- shared through a function: Redis runs the script's body as a function, so a function
-- declared in it is a new closure on every run, and with its seven calls that cost
-- 3.6k instructions per check (3%), counted with callgrind.
local MAX_EXACT = 2^53 - 1 -- doubles hold every whole number up to it
local MAX_TIME = 2^52
local count = (#ARGV - 5) / 2
if #KEYS ~= 2 or not (count >= 1 and count <= 8 and count % 1 == 0) then
  error({err = 'ERR sluicegate: expected 2 keys, and mode, cost, now, ttl, chunk size, then a '
    .. 'limit and a length for each of 1 to 8 windows'})
end
local mode, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local ttl, size = tonumber(ARGV[4]), tonumber(ARGV[5])
if mode ~= 0 and mode ~= 1 and mode ~= 2 then
  error({err = 'ERR sluicegate: the mode must be 0 (peek), 1 (check) or 2 (record)'})
end
if not (cost and cost >= 1 and cost <= MAX_EXACT and cost % 1 == 0) then
  error({err = 'ERR sluicegate: the cost must be a whole number from 1 to 2^53 - 1'})
end
if not (ttl and ttl >= 1 and ttl <= MAX_EXACT and ttl % 1 == 0) then
  error({err = 'ERR sluicegate: the time to live must be a whole number of milliseconds from 1 '
    .. 'to 2^53 - 1'})
end
if not (size and size >= 1 and size <= MAX_EXACT and size % 1 == 0) then
  error({err = 'ERR sluicegate: the chunk size must be a whole number from 1 to 2^53 - 1'})
end
for i = 1, count do
  local limit, span = tonumber(ARGV[4 + 2 * i]), tonumber(ARGV[5 + 2 * i])
  if not (limit and limit >= cost and limit <= MAX_EXACT and limit % 1 == 0) then
    error({err = 'ERR sluicegate: every limit must be a whole number from the cost to 2^53 - 1'})
  end
  if not (span and span >= 1 and span <= MAX_TIME and span % 1 == 0) then
    error({err = 'ERR sluicegate: every window\'s length must be a whole number of microseconds '
      .. 'from 1 to 2^52'})
  end
  -- Parsed once: the decision reads them as numbers.
  ARGV[4 + 2 * i], ARGV[5 + 2 * i] = limit, span
end

local now
if ARGV[3] == '' then
  local time = redis.call('TIME')
  now = time[1] * 1000000 + time[2]
else
  now = tonumber(ARGV[3])
  if not (now and now >= 0 and now <= MAX_TIME and now % 1 == 0) then
    error({err = 'ERR sluicegate: now must be "" or a whole number of microseconds from 0 '
      .. 'to 2^52'})
  end
end

-- The decision, on arguments checked above. Like every function here it refers to no local
-- outside itself: Lua would allocate a cell for each one such a function captures, on every
-- run. `log` collects what the run reads of the client's log, for `entry`.
local function decide(log, mode, cost, now, ttl, size, count)
  local encode, decode = struct.pack, struct.unpack
  local ENTRY = 16
  local state_key, log_key = KEYS[1], KEYS[2]
  -- The head's format: 4 + 3 * count doubles (of at most 28).
  local shape = string.sub('>dddddddddddddddddddddddddddd', 1, 5 + 3 * count)
  local head_len = 8 * (4 + 3 * count)

  local state = redis.call('GET', state_key)
  local head
  if state then
    head = {decode(shape, state)}
  else
    head = {0, -1, 0, 0}
    for i = 1, count do
      head[3 * i + 2], head[3 * i + 3], head[3 * i + 4] = 0, 0, -1
    end
  end
  local n, newest, first_held = head[1], head[2], head[3]
  if now < newest then
    now = newest
  end
  -- The first number of the chunk being filled, whose live entries the state holds.
  local filling = n - n % size
  log.state, log.filling, log.size = state, filling, size
  -- Where entry k starts in the state, less 16 * k.
  log.base = head_len + 1 - ENTRY * first_held

  -- Entry k's time and cost: from the state when it holds it, else from its chunk in the hash,
  -- read once per run (the chunks read are kept in `log` by number).
  local function entry(log, k)
    if k >= log.filling then
      return struct.unpack('>dd', log.state, log.base + 16 * k)
    end
    local size = log.size
    local j = (k - k % size) / size
    local chunk = log[j]
    if not chunk then
      chunk = redis.call('HGET', KEYS[2], j)
      if not chunk then
        log.damaged = true
        error({err = 'sluicegate: a chunk of the log is missing'})
      end
      log[j] = chunk
    end
    return struct.unpack('>dd', chunk, 8 + 16 * (k - struct.unpack('>d', chunk)) + 1)
  end

  -- Move every window's cursor past the entries that have left it.
  local fits = true
  local oldest_cursor = n
  for i = 1, count do
    local limit, span = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
    local at = 3 * i + 1
    local c, u, x = head[at + 1], head[at + 2], head[at + 3]
    if c < oldest_cursor then
      oldest_cursor = c
    end
    while x >= 0 and x + span <= now do
      local _, gone = entry(log, c)
      u = u - gone
      c = c + 1
      x = c < n and entry(log, c) or -1
    end
    head[at + 1], head[at + 2], head[at + 3] = c, u, x
    if u + cost > limit then
      fits = false
    end
  end

  -- When it does not fit: the latest, over the windows, of the moment enough of the window's
  -- oldest entries have left it. Usage only falls as time passes, so that moment fits them all.
  local retry = 0
  if not fits then
    local at = now
    for i = 1, count do
      local limit, span = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
      local need = head[3 * i + 3] + cost - limit
      local k = head[3 * i + 2]
      while need > 0 do
        local time, spent = entry(log, k)
        need = need - spent
        if time + span > at then
          at = time + span
        end
        k = k + 1
      end
    end
    retry = at - now
  end

  local record = mode == 2 or (mode == 1 and fits)
  if record or (mode == 0 and fits) then
    for i = 1, count do
      local at = 3 * i + 1
      head[at + 2] = head[at + 2] + cost
      if head[at + 3] < 0 then
        head[at + 1], head[at + 3] = n, now
      end
    end
  end

  if record then
    -- The new state is its head, the entries it keeps, and the newest one (`tail`), joined once.
    local tail
    local last_kept = n - 1
    if newest == now and n > first_held then
      -- Same microsecond as the newest entry, which the state holds: it absorbs the cost.
      local _, spent = entry(log, n - 1)
      tail = encode('>dd', now, spent + cost)
      last_kept = n - 2
    else
      if not state then
        -- A fresh state numbers from 0 again: drop chunks a lost state may have left behind.
        redis.call('DEL', log_key)
      end
      tail = encode('>dd', now, cost)
      n = n + 1
    end

    -- Every entry before the oldest cursor has left every window: the state drops those.
    local live = n
    for i = 1, count do
      if head[3 * i + 2] < live then
        live = head[3 * i + 2]
      end
    end
    local keep_from = math.max(first_held, live)
    local kept = ''
    if state and keep_from <= last_kept then
      kept = string.sub(state, head_len + ENTRY * (keep_from - first_held) + 1,
        head_len + ENTRY * (last_kept - first_held + 1))
    end
    first_held = keep_from
    local log_until = head[4]
    if n % size == 0 then
      redis.call('HSET', log_key, filling / size, encode('>d', first_held) .. kept .. tail)
      kept, tail, first_held = '', '', n
      log_until = 0
    end

    -- Delete the stored chunks every cursor has passed: from the one the oldest cursor was in
    -- to the one it is in now.
    local stored_below = n - n % size
    local from = (oldest_cursor - oldest_cursor % size) / size
    local to = math.min(live - live % size, stored_below) / size
    if to > from then
      if live >= stored_below then
        redis.call('DEL', log_key)
      else
        -- In slices: Lua spreads at most a few thousand values into one call.
        for slice = from, to - 1, 1024 do
          local gone = {}
          for j = slice, math.min(slice + 1023, to - 1) do
            gone[#gone + 1] = j
          end
          redis.call('HDEL', log_key, unpack(gone))
        end
      end
    end

    -- Cursors move only when a check runs, and moving one reads the entries it passes, so the
    -- hash must last as long as the state refers to it: until the state's own expiry, at least.
    -- Its time to live is set twice as long, and again only when less than one is left.
    local ttl_us = 1000 * ttl
    if stored_below > live and log_until < now + ttl_us then
      log_until = now + 2 * ttl_us
      redis.call('PEXPIRE', log_key, 2 * ttl)
    end
    head[1], head[2], head[3], head[4] = n, now, first_held, log_until
    local head_bytes = encode(shape, unpack(head, 1, 4 + 3 * count))
    redis.call('SET', state_key, head_bytes .. kept .. tail, 'PX', ARGV[4])
  end

  -- The reply is made in the head's table, which is longer: a new table grown entry by entry
  -- would be resized on the way. Every window's usage and oldest time move down over the
  -- cursors, and Redis ends the reply at the first nil.
  head[1], head[2], head[3] = fits and 1 or 0, retry, now
  for i = 1, count do
    head[2 * i + 2], head[2 * i + 3] = head[3 * i + 3], head[3 * i + 4]
  end
  head[4 + 2 * count] = nil
  return head
end

-- A chunk that is gone though the state still counts it (evicted under Redis's maxmemory, or
-- expired by a clock stepped forward): the client's log is damaged, and is started afresh.
-- Nothing was written before the chunk was found missing.
local log = {state = false, filling = 0, size = 0, base = 0, damaged = false}
local decided, answer = pcall(decide, log, mode, cost, now, ttl, size, count)
if decided then
  return answer
end
if log.damaged then
  redis.call('DEL', KEYS[1], KEYS[2])
  return decide({}, mode, cost, now, ttl, size, count)
end
return error(answer)
