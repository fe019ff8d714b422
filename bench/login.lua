-- login.lua: wrk script for bench/run: every request is a Redfish login,
-- POST /redfish/v1/SessionService/Sessions {UserName, Password}. The name
-- and the password come from BENCH_USER and BENCH_PASSWORD (a password
-- bench/run made up for its own temporary server, or row 10's directory
-- user's from tests/integration/slapd_server.py: letters, digits, '-', '_').
local user = os.getenv("BENCH_USER") or "admin"
local password = os.getenv("BENCH_PASSWORD") or ""

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"UserName":"' .. user .. '","Password":"' .. password .. '"}'
