-- wrk script: HTTP/1.1 pipelining, DEPTH requests per write, cycling through
-- the given paths (for `cargo xtask bench pinned`).
--
--   wrk -t1 -c50 -d8s -s xtask/bench-peers/wrk/pipeline.lua http://127.0.0.1:PORT -- 16 /plaintext
--   wrk ... -- 16 /path/one /path/two ...
--
-- The batches are formatted once per thread in `init`, so the script costs
-- wrk one table index per batch: the client stays far below the server's
-- cost per request, which is what this measures.

local batches = {}
local next_batch = 1

init = function(args)
  local depth = tonumber(args[1]) or 16
  local paths = {}
  for i = 2, #args do
    paths[#paths + 1] = args[i]
  end
  if #paths == 0 then
    paths[1] = "/"
  end
  -- Enough batches that every path appears in the same number of them.
  local count = #paths
  local at = 1
  for b = 1, count do
    local batch = {}
    for i = 1, depth do
      batch[i] = wrk.format("GET", paths[at])
      at = at % #paths + 1
    end
    batches[b] = table.concat(batch)
  end
end

request = function()
  local batch = batches[next_batch]
  next_batch = next_batch % #batches + 1
  return batch
end
