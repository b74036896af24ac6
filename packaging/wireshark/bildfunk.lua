-- SPDX-License-Identifier: GPL-3.0-or-later
-- Wireshark dissector for the bildfunk data plane (wire v1).
--
-- Decodes what travels on bildfunk's UDP data socket: video packets (the
-- 40-byte header of spec §1 plus the shard payload), the data punch
-- "PFpunch1" (spec §7), the feedback datagrams of docs/protocol.md §8 (magic
-- 0xFB: keyframe request, loss report, clock ping, clock pong, bye, frame info), the
-- sound datagrams of docs/protocol.md §8.2 (magic 0xA0: DATA, PARITY, REQUEST), the
-- input datagrams of §14 (magic 0xB0: kind and type; their events are not decoded),
-- and, on the data port only, the sealed form of spec §6 (sequence number,
-- ciphertext and tag; it cannot be decrypted without the session key).
--
-- A capture taken on the sending host (and any capture on loopback) shows a
-- batch the sender handed to the kernel with UDP segmentation offload (GSO)
-- as one large datagram: equal-size video packets back to back. Such a batch
-- is split and every packet in it decoded (Info says "GSO batch of N").
--
-- It is registered on UDP port 47998 (the default data port) and as a
-- heuristic on all UDP traffic: video is recognised by magic 0xC9 at offset
-- 36, version 1, FEC scheme 0 and a length of exactly 40 + shard_bytes (or a
-- whole multiple of it, every packet with the same magic, for a GSO batch);
-- feedback by 0xFB at offset 0, a known type and a length between the type's
-- size and 39; the punch by its 8 ASCII bytes.
--
-- It does not reassemble access units or check the stateful receiver rules
-- (pins, staleness, duplicates); it flags the stateless header rules of
-- spec §4 that need no session parameters as expert info.
--
-- Use: tshark -X lua_script:bildfunk.lua -r capture.pcap
-- or copy it into Wireshark's Lua plugin folder (Help > About > Folders).
-- Works with the Lua 5.1/5.2 of Wireshark 3.x/4.0 and the Lua 5.4 of 4.2+.

local band
if bit32 then
  band = bit32.band
elseif bit then
  band = bit.band
else
  band = load("return function(a, b) return a & b end")()
end

local DATA_PORT = 47998
local HEADER_BYTES = 40
local VIDEO_MAGIC = 0xC9
local FB_MAGIC = 0xFB
local FB_MAX_BYTES = 39
local AUDIO_MAGIC = 0xA0
local AUDIO_HDR_BYTES = 16
local AUDIO_MAX_BYTES = 527
local INPUT_MAGIC = 0xB0
local INPUT_HEAD = { [1] = 42, [2] = 28 } -- INPUT, STATE: bytes before their records
local INPUT_MAX_BYTES = 551
local PUNCH = "PFpunch1"
local SEAL_OVERHEAD = 24 -- seq u64 big-endian + 16-byte GCM tag

local p = Proto("bildfunk", "bildfunk game streaming")

-- Which kind of datagram this is: video, punch, feedback, audio, input, sealed, unknown.
local f_kind = ProtoField.string("bildfunk.kind", "Kind")
-- Packets in the GSO batch this one came in (1 when it came alone).
local f_gso = ProtoField.uint16("bildfunk.gso_segments", "Packets in this GSO batch", base.DEC)

-- Video header, spec §1.
local fec_schemes = { [0] = "GF(2^8) Cauchy Reed-Solomon" }
local f = {
  pts_ns = ProtoField.uint64("bildfunk.pts_ns", "PTS (ns since the Unix epoch)", base.DEC),
  pts = ProtoField.absolute_time("bildfunk.pts", "PTS", base.UTC),
  frame_index = ProtoField.uint32("bildfunk.frame_index", "Frame index", base.DEC),
  stream_seq = ProtoField.uint32("bildfunk.stream_seq", "Stream sequence", base.DEC),
  frame_bytes = ProtoField.uint32("bildfunk.frame_bytes", "Frame bytes", base.DEC),
  user_flags = ProtoField.uint32("bildfunk.user_flags", "User flags", base.HEX),
  uf_keyframe = ProtoField.bool("bildfunk.user_flags.keyframe", "KEYFRAME", 32, nil, 0x4),
  uf_recovery_point = ProtoField.bool("bildfunk.user_flags.recovery_point", "RECOVERY_POINT", 32, nil, 0x10),
  uf_recovery_anchor = ProtoField.bool("bildfunk.user_flags.recovery_anchor", "RECOVERY_ANCHOR", 32, nil, 0x20),
  uf_repeat = ProtoField.bool("bildfunk.user_flags.repeat", "REPEAT", 32, nil, 0x100),
  uf_other = ProtoField.uint32("bildfunk.user_flags.other", "Undefined bits", base.HEX, nil, 0xfffffecb),
  block_index = ProtoField.uint16("bildfunk.block_index", "Block index", base.DEC),
  block_count = ProtoField.uint16("bildfunk.block_count", "Block count", base.DEC),
  data_shards = ProtoField.uint16("bildfunk.data_shards", "Data shards (k)", base.DEC),
  recovery_shards = ProtoField.uint16("bildfunk.recovery_shards", "Recovery shards (m)", base.DEC),
  shard_index = ProtoField.uint16("bildfunk.shard_index", "Shard index", base.DEC),
  shard_bytes = ProtoField.uint16("bildfunk.shard_bytes", "Shard bytes", base.DEC),
  magic = ProtoField.uint8("bildfunk.magic", "Magic", base.HEX),
  version = ProtoField.uint8("bildfunk.version", "Version", base.DEC),
  fec_scheme = ProtoField.uint8("bildfunk.fec_scheme", "FEC scheme", base.DEC, fec_schemes),
  flags = ProtoField.uint8("bildfunk.flags", "Flags", base.HEX),
  fl_pic = ProtoField.bool("bildfunk.flags.pic", "PIC", 8, nil, 0x1),
  fl_eof = ProtoField.bool("bildfunk.flags.eof", "EOF", 8, nil, 0x2),
  fl_sof = ProtoField.bool("bildfunk.flags.sof", "SOF", 8, nil, 0x4),
  fl_probe = ProtoField.bool("bildfunk.flags.probe", "PROBE", 8, nil, 0x8),
  fl_other = ProtoField.uint8("bildfunk.flags.other", "Undefined bits", base.HEX, nil, 0xf0),
  shard_kind = ProtoField.string("bildfunk.shard_kind", "Shard kind"),
  payload = ProtoField.bytes("bildfunk.payload", "Shard payload"),

  punch = ProtoField.string("bildfunk.punch", "Punch"),

  -- Feedback, docs/protocol.md §8.
  fb_magic = ProtoField.uint8("bildfunk.fb.magic", "Magic", base.HEX),
  fb_type = ProtoField.uint8("bildfunk.fb.type", "Type", base.DEC, {
    [1] = "KEYFRAME_REQUEST", [2] = "LOSS_REPORT", [3] = "CLOCK_PING",
    [4] = "CLOCK_PONG", [5] = "BYE", [6] = "FRAME_INFO" }),
  fb_request_id = ProtoField.uint32("bildfunk.fb.request_id", "Request id", base.DEC),
  fb_first_lost = ProtoField.uint32("bildfunk.fb.first_lost", "First lost frame", base.DEC),
  fb_last_lost = ProtoField.uint32("bildfunk.fb.last_lost", "Last lost frame", base.DEC),
  fb_window_ms = ProtoField.uint32("bildfunk.fb.window_ms", "Window (ms)", base.DEC),
  fb_packets_received = ProtoField.uint32("bildfunk.fb.packets_received", "Packets received", base.DEC),
  fb_shards_missing = ProtoField.uint32("bildfunk.fb.shards_missing", "Shards missing", base.DEC),
  fb_loss_ppm = ProtoField.uint32("bildfunk.fb.loss_ppm", "Loss (ppm)", base.DEC),
  fb_frames_completed = ProtoField.uint32("bildfunk.fb.frames_completed", "Frames completed", base.DEC),
  fb_frames_lost = ProtoField.uint32("bildfunk.fb.frames_lost", "Frames lost", base.DEC),
  fb_shards_recovered = ProtoField.uint32("bildfunk.fb.shards_recovered", "Shards recovered by FEC", base.DEC),
  fb_late_shards = ProtoField.uint32("bildfunk.fb.late_shards", "Late shards", base.DEC),
  fb_id = ProtoField.uint32("bildfunk.fb.id", "Ping id", base.DEC),
  fb_t1_ns = ProtoField.uint64("bildfunk.fb.t1_ns", "t1: client send (ns)", base.DEC),
  fb_t2_ns = ProtoField.uint64("bildfunk.fb.t2_ns", "t2: sender receive (ns)", base.DEC),
  fb_t3_ns = ProtoField.uint64("bildfunk.fb.t3_ns", "t3: sender send (ns)", base.DEC),
  fb_reason = ProtoField.uint32("bildfunk.fb.reason", "Reason", base.DEC, {
    [0] = "normal", [1] = "error", [2] = "replaced" }),
  fb_frame_index = ProtoField.uint32("bildfunk.fb.frame_index", "Frame index", base.DEC),
  fb_host_us = ProtoField.uint32("bildfunk.fb.host_us", "Host time: capture to last packet sent (us)", base.DEC),
  fb_loss_runs = ProtoField.uint32("bildfunk.fb.loss_runs", "Runs of consecutive lost shards", base.DEC),
  fb_extension = ProtoField.bytes("bildfunk.fb.extension", "Extension bytes"),

  -- Sound, docs/protocol.md §8.2.
  audio_type = ProtoField.uint8("bildfunk.audio.type", "Audio type", base.DEC, {
    [1] = "DATA", [2] = "PARITY", [3] = "REQUEST" }),
  audio_frame_units = ProtoField.uint8("bildfunk.audio.frame_units", "Frame length (2.5 ms units)", base.DEC),
  audio_channels = ProtoField.uint8("bildfunk.audio.channels", "Channels", base.DEC),
  audio_kbps = ProtoField.uint16("bildfunk.audio.kbps", "Bitrate (kbit/s)", base.DEC),
  audio_k = ProtoField.uint8("bildfunk.audio.k", "Frames per FEC block (k)", base.DEC),
  audio_m = ProtoField.uint8("bildfunk.audio.m", "Parity datagrams per block (m)", base.DEC),
  audio_seq = ProtoField.uint32("bildfunk.audio.seq", "Frame (DATA) / block's first frame (PARITY)", base.DEC),
  audio_index = ProtoField.uint8("bildfunk.audio.index", "Place in block / parity row", base.DEC),
  audio_body_len = ProtoField.uint16("bildfunk.audio.body_len", "Body length", base.DEC),
  audio_capture_ns = ProtoField.uint64("bildfunk.audio.capture_ns", "Capture time (ns since the Unix epoch)", base.DEC),
  audio_opus_len = ProtoField.uint16("bildfunk.audio.opus_len", "Opus packet length", base.DEC),
  audio_opus = ProtoField.bytes("bildfunk.audio.opus", "Opus packet"),
  audio_parity = ProtoField.bytes("bildfunk.audio.parity", "Parity"),

  -- Input, docs/protocol.md §14.
  input_type = ProtoField.uint8("bildfunk.input.type", "Input type", base.DEC, {
    [1] = "INPUT", [2] = "STATE" }),
  input_body = ProtoField.bytes("bildfunk.input.body", "Input message"),

  -- Sealed form, spec §6.
  sealed_seq = ProtoField.uint64("bildfunk.sealed.seq", "Seal sequence", base.DEC),
  sealed_ciphertext = ProtoField.bytes("bildfunk.sealed.ciphertext", "Ciphertext"),
  sealed_tag = ProtoField.bytes("bildfunk.sealed.tag", "GCM tag"),
}
local fields = { f_kind, f_gso }
for _, v in pairs(f) do fields[#fields + 1] = v end
p.fields = fields

local e = {
  version = ProtoExpert.new("bildfunk.expert.version", "Unknown wire version",
                            expert.group.MALFORMED, expert.severity.ERROR),
  fec_scheme = ProtoExpert.new("bildfunk.expert.fec_scheme", "Unknown FEC scheme",
                               expert.group.MALFORMED, expert.severity.ERROR),
  length = ProtoExpert.new("bildfunk.expert.length", "Datagram length is not 40 + shard_bytes",
                           expert.group.MALFORMED, expert.severity.ERROR),
  shard_bytes = ProtoExpert.new("bildfunk.expert.shard_bytes", "shard_bytes odd or outside 512..9152",
                                expert.group.MALFORMED, expert.severity.ERROR),
  data_shards = ProtoExpert.new("bildfunk.expert.data_shards", "data_shards is 0",
                                expert.group.MALFORMED, expert.severity.ERROR),
  block_shards = ProtoExpert.new("bildfunk.expert.block_shards", "data_shards + recovery_shards > 255",
                                 expert.group.MALFORMED, expert.severity.ERROR),
  shard_index = ProtoExpert.new("bildfunk.expert.shard_index", "shard_index >= k + m",
                                expert.group.MALFORMED, expert.severity.ERROR),
  block_count = ProtoExpert.new("bildfunk.expert.block_count", "block_count is 0",
                                expert.group.MALFORMED, expert.severity.ERROR),
  block_index = ProtoExpert.new("bildfunk.expert.block_index", "block_index >= block_count",
                                expert.group.MALFORMED, expert.severity.ERROR),
  user_flags = ProtoExpert.new("bildfunk.expert.user_flags", "Undefined user_flags bits set (ignored)",
                               expert.group.PROTOCOL, expert.severity.NOTE),
  fb_short = ProtoExpert.new("bildfunk.expert.fb_short", "Feedback shorter than its type",
                             expert.group.MALFORMED, expert.severity.ERROR),
  fb_type = ProtoExpert.new("bildfunk.expert.fb_type", "Unknown feedback type",
                            expert.group.MALFORMED, expert.severity.ERROR),
  unknown = ProtoExpert.new("bildfunk.expert.unknown", "Not a bildfunk datagram this dissector knows",
                            expert.group.UNDECODED, expert.severity.WARN),
}
p.experts = { e.version, e.fec_scheme, e.length, e.shard_bytes, e.data_shards,
              e.block_shards, e.shard_index, e.block_count, e.block_index,
              e.user_flags, e.fb_short, e.fb_type, e.unknown }

-- Size on the wire of each feedback type, magic and type byte included.
local fb_sizes = { [1] = 14, [2] = 34, [3] = 14, [4] = 30, [5] = 6, [6] = 10 }
local fb_names = { [1] = "Keyframe request", [2] = "Loss report", [3] = "Clock ping",
                   [4] = "Clock pong", [5] = "Bye", [6] = "Frame info" }

local function is_video(tvb)
  local len = tvb:len()
  return len >= HEADER_BYTES and tvb(36, 1):uint() == VIDEO_MAGIC
     and tvb(37, 1):uint() == 1 and tvb(38, 1):uint() == 0
     and len == HEADER_BYTES + tvb(34, 2):le_uint()
end

-- Number of video packets when |tvb| is a GSO batch of two or more, else 0.
local function video_batch(tvb)
  local len = tvb:len()
  if len < 2 * HEADER_BYTES or tvb(36, 1):uint() ~= VIDEO_MAGIC
     or tvb(37, 1):uint() ~= 1 or tvb(38, 1):uint() ~= 0 then return 0 end
  local seg = HEADER_BYTES + tvb(34, 2):le_uint()
  if len % seg ~= 0 or len == seg then return 0 end
  for off = seg, len - seg, seg do
    if tvb(off + 36, 1):uint() ~= VIDEO_MAGIC or tvb(off + 34, 2):le_uint() + HEADER_BYTES ~= seg then
      return 0
    end
  end
  return len / seg
end

local function is_audio(tvb)
  local len = tvb:len()
  if len < 4 or len > AUDIO_MAX_BYTES or tvb(0, 1):uint() ~= AUDIO_MAGIC then return false end
  local t = tvb(1, 1):uint()
  if t == 3 then return tvb(2, 1):uint() == 1 end -- REQUEST, version 1
  if t ~= 1 and t ~= 2 then return false end
  return len >= AUDIO_HDR_BYTES and tvb(14, 2):le_uint() == len - AUDIO_HDR_BYTES
end

local function is_input(tvb)
  local len = tvb:len()
  if len < 2 or len > INPUT_MAX_BYTES or tvb(0, 1):uint() ~= INPUT_MAGIC then return false end
  local head = INPUT_HEAD[tvb(1, 1):uint()]
  return head ~= nil and len >= head
end

local function is_punch(tvb)
  return tvb:len() >= #PUNCH and tvb(0, #PUNCH):string() == PUNCH
end

local function is_feedback(tvb)
  local len = tvb:len()
  if len < 2 or len > FB_MAX_BYTES or tvb(0, 1):uint() ~= FB_MAGIC then return false end
  local size = fb_sizes[tvb(1, 1):uint()]
  return size ~= nil and len >= size
end

local function flag_names(v, names)
  local out = {}
  for _, n in ipairs(names) do
    if band(v, n[1]) ~= 0 then out[#out + 1] = n[2] end
  end
  return table.concat(out, ",")
end

local function dissect_video(tvb, pinfo, tree)
  local len = tvb:len()
  tree:add(f_kind, "video"):set_generated()
  local pts = tvb(0, 8):le_uint64()
  tree:add_le(f.pts_ns, tvb(0, 8))
  local secs = (pts / 1000000000):tonumber()
  local nsecs = (pts % 1000000000):tonumber()
  tree:add(f.pts, tvb(0, 8), NSTime.new(secs, nsecs)):set_generated()
  local frame_index = tvb(8, 4):le_uint()
  tree:add_le(f.frame_index, tvb(8, 4))
  local stream_seq = tvb(12, 4):le_uint()
  tree:add_le(f.stream_seq, tvb(12, 4))
  tree:add_le(f.frame_bytes, tvb(16, 4))
  local uf = tvb(20, 4):le_uint()
  local uf_item = tree:add_le(f.user_flags, tvb(20, 4))
  uf_item:add_le(f.uf_keyframe, tvb(20, 4))
  uf_item:add_le(f.uf_recovery_point, tvb(20, 4))
  uf_item:add_le(f.uf_recovery_anchor, tvb(20, 4))
  uf_item:add_le(f.uf_repeat, tvb(20, 4))
  uf_item:add_le(f.uf_other, tvb(20, 4))
  if band(uf, 0xfffffecb) ~= 0 then uf_item:add_proto_expert_info(e.user_flags) end
  local bi = tvb(24, 2):le_uint()
  local bc = tvb(26, 2):le_uint()
  local k = tvb(28, 2):le_uint()
  local m = tvb(30, 2):le_uint()
  local si = tvb(32, 2):le_uint()
  local sb = tvb(34, 2):le_uint()
  local bi_item = tree:add_le(f.block_index, tvb(24, 2))
  local bc_item = tree:add_le(f.block_count, tvb(26, 2))
  local k_item = tree:add_le(f.data_shards, tvb(28, 2))
  local m_item = tree:add_le(f.recovery_shards, tvb(30, 2))
  local si_item = tree:add_le(f.shard_index, tvb(32, 2))
  local sb_item = tree:add_le(f.shard_bytes, tvb(34, 2))
  tree:add(f.magic, tvb(36, 1))
  local ver_item = tree:add(f.version, tvb(37, 1))
  local fec_item = tree:add(f.fec_scheme, tvb(38, 1))
  local fl = tvb(39, 1):uint()
  local fl_item = tree:add(f.flags, tvb(39, 1))
  fl_item:add(f.fl_pic, tvb(39, 1))
  fl_item:add(f.fl_eof, tvb(39, 1))
  fl_item:add(f.fl_sof, tvb(39, 1))
  fl_item:add(f.fl_probe, tvb(39, 1))
  fl_item:add(f.fl_other, tvb(39, 1))
  local kind = si < k and "data" or "parity"
  tree:add(f.shard_kind, kind):set_generated()
  if len > HEADER_BYTES then tree:add(f.payload, tvb(HEADER_BYTES)) end

  -- Stateless rules of spec §4 that need no session parameters.
  if tvb(37, 1):uint() ~= 1 then ver_item:add_proto_expert_info(e.version) end
  if tvb(38, 1):uint() ~= 0 then fec_item:add_proto_expert_info(e.fec_scheme) end
  if len ~= HEADER_BYTES + sb then sb_item:add_proto_expert_info(e.length) end
  if sb % 2 ~= 0 or sb < 512 or sb > 9152 then sb_item:add_proto_expert_info(e.shard_bytes) end
  if k == 0 then k_item:add_proto_expert_info(e.data_shards) end
  if k + m > 255 then m_item:add_proto_expert_info(e.block_shards) end
  if si >= k + m then si_item:add_proto_expert_info(e.shard_index) end
  if bc == 0 then bc_item:add_proto_expert_info(e.block_count) end
  if bi >= bc then bi_item:add_proto_expert_info(e.block_index) end

  local fls = flag_names(fl, { { 0x4, "SOF" }, { 0x1, "PIC" }, { 0x2, "EOF" }, { 0x8, "PROBE" } })
  local ufs = flag_names(uf, { { 0x4, "KEY" }, { 0x10, "RP" }, { 0x20, "ANCHOR" }, { 0x100, "REPEAT" } })
  local info = string.format("Video AU %u blk %u/%u %s %u/%u seq %u", frame_index, bi, bc,
                             kind, si, k + m, stream_seq)
  if fls ~= "" then info = info .. " [" .. fls .. "]" end
  if ufs ~= "" then info = info .. " {" .. ufs .. "}" end
  pinfo.cols.info:set(info)
end

local function dissect_punch(tvb, pinfo, tree)
  tree:add(f_kind, "punch"):set_generated()
  tree:add(f.punch, tvb(0, #PUNCH))
  pinfo.cols.info:set("Punch " .. PUNCH)
end

local function dissect_feedback(tvb, pinfo, tree)
  local len = tvb:len()
  tree:add(f_kind, "feedback"):set_generated()
  tree:add(f.fb_magic, tvb(0, 1))
  local t = tvb(1, 1):uint()
  local t_item = tree:add(f.fb_type, tvb(1, 1))
  local size = fb_sizes[t]
  if size == nil then
    t_item:add_proto_expert_info(e.fb_type)
    pinfo.cols.info:set(string.format("Feedback, unknown type %u", t))
    return
  end
  if len < size then
    t_item:add_proto_expert_info(e.fb_short)
    pinfo.cols.info:set(string.format("%s (truncated)", fb_names[t]))
    return
  end
  local info = fb_names[t]
  local function u32(off) return tvb(off, 4):le_uint() end
  if t == 1 then
    tree:add_le(f.fb_request_id, tvb(2, 4))
    tree:add_le(f.fb_first_lost, tvb(6, 4))
    tree:add_le(f.fb_last_lost, tvb(10, 4))
    info = string.format("%s id %u frames %u..%u", info, u32(2), u32(6), u32(10))
  elseif t == 2 then
    local names = { f.fb_window_ms, f.fb_packets_received, f.fb_shards_missing, f.fb_loss_ppm,
                    f.fb_frames_completed, f.fb_frames_lost, f.fb_shards_recovered,
                    f.fb_late_shards }
    for i, field in ipairs(names) do tree:add_le(field, tvb(2 + 4 * (i - 1), 4)) end
    info = string.format("%s %u ms: %u packets, loss %u ppm, %u frames lost", info, u32(2),
                         u32(6), u32(14), u32(22))
    if len >= 38 then -- loss_runs, appended in issue #16 (a 34-byte report is the older form)
      tree:add_le(f.fb_loss_runs, tvb(34, 4))
      info = string.format("%s, %u loss runs", info, u32(34))
      size = 38
    end
  elseif t == 3 then
    tree:add_le(f.fb_id, tvb(2, 4))
    tree:add_le(f.fb_t1_ns, tvb(6, 8))
    info = string.format("%s id %u", info, u32(2))
  elseif t == 4 then
    tree:add_le(f.fb_id, tvb(2, 4))
    tree:add_le(f.fb_t1_ns, tvb(6, 8))
    tree:add_le(f.fb_t2_ns, tvb(14, 8))
    tree:add_le(f.fb_t3_ns, tvb(22, 8))
    info = string.format("%s id %u", info, u32(2))
  elseif t == 5 then
    tree:add_le(f.fb_reason, tvb(2, 4))
    local reasons = { [0] = "normal", [1] = "error", [2] = "replaced" }
    info = string.format("%s (%s)", info, reasons[u32(2)] or tostring(u32(2)))
  elseif t == 6 then
    tree:add_le(f.fb_frame_index, tvb(2, 4))
    tree:add_le(f.fb_host_us, tvb(6, 4))
    info = string.format("%s frame %u host %u us", info, u32(2), u32(6))
  end
  if len > size then tree:add(f.fb_extension, tvb(size)) end
  pinfo.cols.info:set(info)
end

local function dissect_audio(tvb, pinfo, tree)
  local len = tvb:len()
  tree:add(f_kind, "audio"):set_generated()
  tree:add(f.audio_type, tvb(1, 1))
  local t = tvb(1, 1):uint()
  if t == 3 then
    pinfo.cols.info:set("Audio REQUEST (send me sound)")
    return
  end
  tree:add(f.audio_frame_units, tvb(2, 1))
  tree:add(f.audio_channels, tvb(3, 1))
  tree:add_le(f.audio_kbps, tvb(4, 2))
  tree:add(f.audio_k, tvb(6, 1))
  tree:add(f.audio_m, tvb(7, 1))
  tree:add_le(f.audio_seq, tvb(8, 4))
  tree:add(f.audio_index, tvb(12, 1))
  tree:add_le(f.audio_body_len, tvb(14, 2))
  local seq, idx = tvb(8, 4):le_uint(), tvb(12, 1):uint()
  if t == 1 and len >= AUDIO_HDR_BYTES + 10 then
    tree:add_le(f.audio_capture_ns, tvb(16, 8))
    tree:add_le(f.audio_opus_len, tvb(24, 2))
    if len > AUDIO_HDR_BYTES + 10 then tree:add(f.audio_opus, tvb(26)) end
    pinfo.cols.info:set(string.format("Audio DATA frame %u (%u of block), %u bytes of Opus", seq,
                                      idx, tvb(24, 2):le_uint()))
  else
    if len > AUDIO_HDR_BYTES then tree:add(f.audio_parity, tvb(AUDIO_HDR_BYTES)) end
    pinfo.cols.info:set(string.format("Audio PARITY row %u of the block from frame %u", idx, seq))
  end
end

local function dissect_input(tvb, pinfo, tree)
  tree:add(f_kind, "input"):set_generated()
  tree:add(f.input_type, tvb(1, 1))
  if tvb:len() > 2 then tree:add(f.input_body, tvb(2)) end
  local names = { [1] = "INPUT (client to sender)", [2] = "STATE (sender to client)" }
  pinfo.cols.info:set(string.format("Input %s, %u bytes", names[tvb(1, 1):uint()], tvb:len()))
end

local function dissect_other(tvb, pinfo, tree)
  local len = tvb:len()
  if len >= SEAL_OVERHEAD + 6 then
    -- Smallest sealed datagram: a sealed bye (24 + 6 bytes).
    tree:add(f_kind, "sealed"):set_generated()
    tree:add(f.sealed_seq, tvb(0, 8))
    tree:add(f.sealed_ciphertext, tvb(8, len - SEAL_OVERHEAD))
    tree:add(f.sealed_tag, tvb(len - 16, 16))
    pinfo.cols.info:set(string.format("Sealed seq %s, %u bytes of ciphertext",
                                      tostring(tvb(0, 8):uint64()), len - SEAL_OVERHEAD))
  else
    local item = tree:add(f_kind, "unknown")
    item:set_generated()
    item:add_proto_expert_info(e.unknown)
    pinfo.cols.info:set(string.format("Unknown datagram, %u bytes", len))
  end
end

-- Dissects a GSO batch of |n| equal-size video packets.
local function dissect_batch(tvb, pinfo, root, n)
  pinfo.cols.protocol:set("bildfunk")
  local seg = tvb:len() / n
  local first_info
  for i = 0, n - 1 do
    local sub = tvb(i * seg, seg):tvb()
    local tree = root:add(p, tvb(i * seg, seg))
    tree:append_text(string.format(", GSO packet %d of %d", i + 1, n))
    tree:add(f_gso, n):set_generated()
    dissect_video(sub, pinfo, tree)
    if i == 0 then first_info = tostring(pinfo.cols.info) end
  end
  pinfo.cols.info:set(string.format("GSO batch of %d: %s ...", n, first_info))
end

-- Dissects one datagram already known (by port or heuristic) to be ours.
local function dissect(tvb, pinfo, root, classify_only)
  local kind
  local batch = video_batch(tvb)
  if batch > 0 then
    dissect_batch(tvb, pinfo, root, batch)
    return true
  end
  if is_video(tvb) then kind = dissect_video
  elseif is_punch(tvb) then kind = dissect_punch
  elseif is_feedback(tvb) then kind = dissect_feedback
  elseif is_audio(tvb) then kind = dissect_audio
  elseif is_input(tvb) then kind = dissect_input
  elseif classify_only then return false
  elseif tvb:len() >= HEADER_BYTES and tvb(36, 1):uint() == VIDEO_MAGIC then
    kind = dissect_video -- malformed video: decode it and flag what is wrong
  elseif tvb:len() >= 2 and tvb:len() <= FB_MAX_BYTES and tvb(0, 1):uint() == FB_MAGIC then
    kind = dissect_feedback
  else kind = dissect_other end
  pinfo.cols.protocol:set("bildfunk")
  local tree = root:add(p, tvb())
  if kind == dissect_video then tree:add(f_gso, 1):set_generated() end
  kind(tvb, pinfo, tree)
  return true
end

function p.dissector(tvb, pinfo, root)
  dissect(tvb, pinfo, root, false)
  return tvb:len()
end

local function heuristic(tvb, pinfo, root)
  return dissect(tvb, pinfo, root, true)
end

DissectorTable.get("udp.port"):add(DATA_PORT, p)
p:register_heuristic("udp", heuristic)
