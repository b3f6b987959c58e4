-- luacheck settings for the binding, its tests and its benchmark (LuaJIT's standard library).
std = "luajit"
max_line_length = 100
