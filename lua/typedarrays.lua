--[[
typedarrays.lua — the byte-array shim that lets typescript-to-lua output of
slabnet run on plain Lua 5.3 / 5.4 (DESIGN.md "Runtimes": Lua).

Load it BEFORE the bundle (scripts/build-lua.js runs
`lua5.3 -e "dofile('dist/lua/typedarrays.lua')" dist/lua/slabnet.lua`).

It defines the globals Uint8Array, Uint16Array, Int32Array, Uint32Array and
Float64Array to match what TSTL 1.37 emits for them (checked against the
emitted code):

  new Uint8Array(n)        → __TS__New(Uint8Array, n)
                             = setmetatable({}, Uint8Array.prototype)
                               :____constructor(n)
  new Uint8Array([1, 2])   → __TS__New(Uint8Array, {1, 2})  (1-based Lua array)
  a[i]                     → a[i]          (ZERO-based: TSTL does not treat
                                            typed arrays as Lua arrays, no +1)
  a.length                 → a.length      (a plain field, not #a)
  a.fill(v) / a.set(b, o)  → a:fill(v) / a:set(b, o)
  a.subarray(s, e)         → a:subarray(s, e)   (a view sharing storage)
  x instanceof Uint8Array  → __TS__InstanceOf → x.constructor == Uint8Array

Storage is the table itself, keyed 0 .. length-1. Elements never written
are absent and read as 0 (so a 64 KB buffer costs nothing until used);
reads outside 0 .. length-1 give nil, as JavaScript gives undefined.

Writes are NOT truncated (a plain table store, no metamethod on the hot
path): the TypeScript must mask every value it stores (`& 0xff`,
put16/put32, u32) — docs/CODING.md "Portable integer arithmetic". Values
copied in by the constructor, fill() and set() ARE converted like
JavaScript does, since those are not on the hot path.
]]

local mtype = math.type
local floor = math.floor

local function toint(v)
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
    return 0
  end
  if mtype(v) == "integer" then return v end
  if v >= 0 then v = floor(v) else v = -floor(-v) end
  return math.tointeger(v % 0x100000000) or 0
end

local conv = {
  Uint8Array = function(v) return toint(v) & 0xff end,
  Uint16Array = function(v) return toint(v) & 0xffff end,
  Int32Array = function(v)
    local u = toint(v) & 0xffffffff
    if u >= 0x80000000 then return u - 0x100000000 end
    return u
  end,
  Uint32Array = function(v) return toint(v) & 0xffffffff end,
  Float64Array = function(v)
    if type(v) ~= "number" then return 0 / 0 end
    return v
  end,
}

local bytesPer = { Uint8Array = 1, Uint16Array = 2, Int32Array = 4, Uint32Array = 4, Float64Array = 8 }

local viewMeta = {}

-- true when t is a typed array or a view made by this shim
local function isTyped(t)
  if type(t) ~= "table" then return false end
  local mt = getmetatable(t)
  return mt ~= nil and rawget(mt, "____typed") == true
end

local function makeClass(name)
  local cls = { name = name, BYTES_PER_ELEMENT = bytesPer[name] }
  local proto = { ____typed = true, ____name = name, constructor = cls }
  local cv = conv[name]
  cls.prototype = proto
  proto.__index = function(t, k)
    if type(k) == "number" then
      if k >= 0 and k < rawget(t, "length") then return 0 end
      return nil
    end
    if k == "byteLength" then return rawget(t, "length") * bytesPer[name] end
    return proto[k]
  end

  function proto.____constructor(self, arg)
    if type(arg) == "number" then
      self.length = floor(arg)
    elseif isTyped(arg) then
      local n = arg.length
      self.length = n
      for i = 0, n - 1 do
        local v = arg[i]
        if v ~= 0 then self[i] = cv(v) end
      end
    elseif type(arg) == "table" then
      local n = #arg
      self.length = n
      for i = 0, n - 1 do
        local v = arg[i + 1]
        if v ~= 0 then self[i] = cv(v) end
      end
    else
      self.length = 0
    end
  end

  local function clampIndex(i, n, dflt)
    if i == nil then return dflt end
    i = toint(i)
    if i < 0 then
      i = i + n
      if i < 0 then i = 0 end
    elseif i > n then
      i = n
    end
    return i
  end

  function proto.fill(self, v, s, e)
    local n = self.length
    s = clampIndex(s, n, 0)
    e = clampIndex(e, n, n)
    local x = cv(v)
    for i = s, e - 1 do self[i] = x end
    return self
  end

  function proto.set(self, src, off)
    off = off == nil and 0 or toint(off)
    local n
    local base1 = false
    if isTyped(src) then n = src.length else n = #src; base1 = true end
    if off < 0 or off + n > self.length then
      error("RangeError: offset is out of bounds", 2)
    end
    if base1 then
      for i = 0, n - 1 do self[off + i] = cv(src[i + 1]) end
    else
      -- src may share storage with self (a view): copy through a temporary
      -- when it does, as JavaScript's set() behaves like memmove
      local tmp = nil
      local sb = rawget(src, "____base") or src
      local db = rawget(self, "____base") or self
      if sb == db then
        tmp = {}
        for i = 0, n - 1 do tmp[i] = src[i] end
        for i = 0, n - 1 do self[off + i] = tmp[i] end
      else
        for i = 0, n - 1 do self[off + i] = cv(src[i]) end
      end
    end
  end

  function proto.subarray(self, s, e)
    local n = self.length
    s = clampIndex(s, n, 0)
    e = clampIndex(e, n, n)
    if e < s then e = s end
    local base = rawget(self, "____base") or self
    local off = (rawget(self, "____off") or 0) + s
    return setmetatable({ ____base = base, ____off = off, length = e - s }, viewMeta[name])
  end

  -- JavaScript's typed-array slice returns a copy of the same type (Espruino
  -- returns a plain Array: the Espruino bundle checker rejects slice()).
  function proto.slice(self, s, e)
    local n = self.length
    s = clampIndex(s, n, 0)
    e = clampIndex(e, n, n)
    if e < s then e = s end
    local r = setmetatable({ length = e - s }, proto)
    for i = s, e - 1 do
      local v = self[i]
      if v ~= 0 then r[i - s] = v end
    end
    return r
  end

  function proto.indexOf(self, v, from)
    local n = self.length
    for i = clampIndex(from, n, 0), n - 1 do
      if self[i] == v then return i end
    end
    return -1
  end

  -- a view: empty table, every numeric access goes to the base storage
  local vm = { ____typed = true, ____name = name }
  vm.__index = function(t, k)
    if type(k) == "number" then
      if k >= 0 and k < rawget(t, "length") then
        return rawget(t, "____base")[rawget(t, "____off") + k]
      end
      return nil
    end
    if k == "byteLength" then return rawget(t, "length") * bytesPer[name] end
    if k == "constructor" then return cls end
    return proto[k]
  end
  vm.__newindex = function(t, k, v)
    if type(k) == "number" then
      if k >= 0 and k < rawget(t, "length") then
        rawget(t, "____base")[rawget(t, "____off") + k] = v
      end
      return
    end
    rawset(t, k, v)
  end
  viewMeta[name] = vm
  return cls
end

Uint8Array = makeClass("Uint8Array")
Uint16Array = makeClass("Uint16Array")
Int32Array = makeClass("Int32Array")
Uint32Array = makeClass("Uint32Array")
Float64Array = makeClass("Float64Array")
