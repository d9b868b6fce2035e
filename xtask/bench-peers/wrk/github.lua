-- wrk script: cycles through 50 concrete GET paths of the GitHub route set,
-- spread evenly over xtask/bench-peers/data/github_requests.txt (131 GET
-- requests in all). Every path must answer 200 on every server.
--
--   wrk -t1 -c50 -d8s --latency -s xtask/bench-peers/wrk/github.lua http://127.0.0.1:PORT
--
-- The requests are formatted once per thread in `init`, so the script costs
-- wrk one table index per request.

local paths = {
  "/authorizations",
  "/applications/a1b2c3d4/tokens/tok_5e6f7a",
  "/networks/rust-lang/rust/events",
  "/users/octocat/received_events",
  "/users/octocat/events/public",
  "/notifications",
  "/notifications/threads/1337",
  "/users/octocat/starred",
  "/user/starred/rust-lang/rust",
  "/user/subscriptions",
  "/users/octocat/gists",
  "/gists/1337",
  "/repos/rust-lang/rust/git/commits/7d3e4f2a9b1c",
  "/repos/rust-lang/rust/git/trees/7d3e4f2a9b1c",
  "/user/issues",
  "/repos/rust-lang/rust/issues/42",
  "/repos/rust-lang/rust/assignees/octocat",
  "/repos/rust-lang/rust/labels",
  "/repos/rust-lang/rust/milestones/42/labels",
  "/repos/rust-lang/rust/milestones/42",
  "/gitignore/templates/bug",
  "/users/octocat/orgs",
  "/orgs/rust-lang",
  "/orgs/rust-lang/public_members",
  "/orgs/rust-lang/teams",
  "/teams/1337/members/octocat",
  "/user/teams",
  "/repos/rust-lang/rust/pulls/42",
  "/repos/rust-lang/rust/pulls/42/merge",
  "/user/repos",
  "/repositories",
  "/repos/rust-lang/rust/languages",
  "/repos/rust-lang/rust/tags",
  "/repos/rust-lang/rust/collaborators",
  "/repos/rust-lang/rust/commits/7d3e4f2a9b1c/comments",
  "/repos/rust-lang/rust/commits",
  "/repos/rust-lang/rust/keys",
  "/repos/rust-lang/rust/downloads",
  "/repos/rust-lang/rust/hooks",
  "/repos/rust-lang/rust/releases/1337",
  "/repos/rust-lang/rust/stats/contributors",
  "/repos/rust-lang/rust/stats/participation",
  "/search/repositories",
  "/search/issues",
  "/legacy/repos/search/router",
  "/legacy/user/email/someone@example.com",
  "/users",
  "/user/followers",
  "/user/following",
  "/users/octocat/keys",
}

local requests = {}
local i = 0

function init(args)
  for k, path in ipairs(paths) do
    requests[k] = wrk.format("GET", path)
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end
