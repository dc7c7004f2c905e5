// StatusJson: the one schema and the one writer of the status documents
// (btlaunchmany and btdownloadheadless --status_json; the RPC later).
//
// Schema: the members of a torrent's object are listed once, in
// for_each_torrent_field() (JSON name -> TorrentStatus member, in document
// order), and likewise a tracker's and the totals'.  The writer and the
// comparison that tells a cache whether a row must be written again both
// walk these lists, so adding a member is one line and they cannot
// disagree.  The launcher's row object is {"file", "loaded"} followed by
// these members (launcher.hpp).
//
// Contract: every document and every piece of one is valid UTF-8 JSON for
// any bytes in any string (names and paths from a .torrent or a Latin-1
// file system, a tracker's failure reason): strings go through base/json's
// append_json_string, which writes bytes that are not UTF-8 as "%XX" (as
// metainfo does to names, as btshowmetainfo --json prints them).  Numbers:
// integers exactly, doubles as "%.6g" (a non-finite one, which JSON cannot
// hold, as null).  Pure: formats copies, never engine objects; appends in
// place, since it runs every display interval over every changed torrent.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btl/engine/engine_types.hpp"

namespace btl {

// f(json_name, &TorrentStatus::member) for each member of a torrent's
// object, in document order.
template <class F>
void for_each_torrent_field(F&& f) {
    f("info_hash", &TorrentStatus::info_hash);
    f("name", &TorrentStatus::name);
    f("state", &TorrentStatus::state);
    f("progress", &TorrentStatus::progress);
    f("check_progress", &TorrentStatus::check_progress);
    f("total_size", &TorrentStatus::total_size);
    f("have_bytes", &TorrentStatus::have_bytes);
    f("down_rate", &TorrentStatus::down_rate);
    f("up_rate", &TorrentStatus::up_rate);
    f("downloaded", &TorrentStatus::downloaded);
    f("uploaded", &TorrentStatus::uploaded);
    f("total_downloaded", &TorrentStatus::total_downloaded);
    f("total_uploaded", &TorrentStatus::total_uploaded);
    f("peers", &TorrentStatus::peers);
    f("seeds", &TorrentStatus::seeds);
    f("eta", &TorrentStatus::eta_s);
    f("error", &TorrentStatus::error);
    f("tracker", &TorrentStatus::tracker_message);
    f("save_path", &TorrentStatus::save_path);
    // places and labels ("trackers" stays last)
    f("label", &TorrentStatus::label);
    f("moving_to", &TorrentStatus::moving_to);
    f("move_progress", &TorrentStatus::move_progress);
    // Queue: 0-based place in btlaunchmany's queue (-1: none); unix time
    // of the last completion (0: never).
    f("queue_position", &TorrentStatus::queue_position);
    f("completed_time", &TorrentStatus::completed_time);
    // per-file choices and sequential download
    f("wanted_bytes", &TorrentStatus::wanted_bytes);
    f("sequential", &TorrentStatus::sequential);
    f("trackers", &TorrentStatus::trackers);  // last: the list ends the object
}

// The members of each object in "trackers" ("next_announce_at" is a unix
// time: fixed between announces, so a row does not change every second).
template <class F>
void for_each_tracker_field(F&& f) {
    f("url", &TrackerStatus::url);
    f("status", &TrackerStatus::status);
    f("seeds", &TrackerStatus::seeds);
    f("leechers", &TrackerStatus::leechers);
    f("fails", &TrackerStatus::fails);
    f("interval", &TrackerStatus::interval_s);
    f("next_announce_at", &TrackerStatus::next_announce_at);
}

// The members of "totals".
template <class F>
void for_each_totals_field(F&& f) {
    f("torrents", &SessionStatus::torrents);
    f("peers", &SessionStatus::peers);
    f("down_rate", &SessionStatus::down_rate);
    f("up_rate", &SessionStatus::up_rate);
    f("downloaded", &SessionStatus::downloaded);
    f("uploaded", &SessionStatus::uploaded);
    f("listen_port", &SessionStatus::listen_port);
    f("port_mapping", &SessionStatus::port_mapping);
    f("dht_nodes", &SessionStatus::dht_nodes);  // -1: DHT off
    f("dht_packets_in", &SessionStatus::dht_packets_in);    // alone no new document:
    f("dht_packets_out", &SessionStatus::dht_packets_out);  // versioned_totals()
    f("dht_nodes6", &SessionStatus::dht_nodes6);  // the IPv6 part of dht_nodes (BEP 32)
}

// The totals as they decide whether a document is new: the members that
// count with time alone while nothing else moves (the DHT's datagram
// counters, a few a second with every torrent idle) are zeroed.  A
// document written for another reason, or rewritten because it is old,
// still shows them as they are then; alone they make no new document (at
// 100,000 torrents one is 57 MB).
SessionStatus versioned_totals(SessionStatus s);

// One JSON value of each type the schema uses.
void append_json_value(std::string& out, const std::string& v);
void append_json_value(std::string& out, bool v);
void append_json_value(std::string& out, int64_t v);
void append_json_value(std::string& out, uint64_t v);
inline void append_json_value(std::string& out, int v) { append_json_value(out, int64_t{v}); }
inline void append_json_value(std::string& out, uint16_t v) { append_json_value(out, uint64_t{v}); }
void append_json_value(std::string& out, double v);
void append_json_value(std::string& out, const Sha1Digest& v);  // 40 hex digits
void append_json_value(std::string& out, TorrentState v);       // state_name()
void append_json_value(std::string& out, const std::vector<TrackerStatus>& v);

// `"name":value`, after a ',' unless `first`.
template <class T>
void append_json_member(std::string& out, std::string_view name, const T& v, bool first = false) {
    if (!first) out += ',';
    out += '"';
    out += name;
    out += "\":";
    append_json_value(out, v);
}

// A torrent's members without the braces, so an owner can put its own
// first (the launcher's "file" and "loaded").
void append_torrent_members(std::string& out, const TorrentStatus& t, bool first = true);
// Whether two statuses give the same members (cheaper than writing both).
bool same_torrent_members(const TorrentStatus& a, const TorrentStatus& b);

// The document: head, the torrent objects separated by ',', end.  "errors"
// (the launcher's rows that did not load) comes before "totals" when given.
void append_status_head(std::string& out);
void append_status_end(std::string& out, const SessionStatus& totals, std::optional<size_t> errors = std::nullopt);

// {"torrents":[{members}, ...],"totals":{...}} and a newline.
std::string status_json(const std::vector<TorrentStatus>& torrents, const SessionStatus& session);
// The "trackers" array of a torrent's object: [{"url", "status", "seeds",
// "leechers", "fails", "interval", "next_announce_at"}, ...].
std::string trackers_json(const std::vector<TrackerStatus>& trackers);

}  // namespace btl
