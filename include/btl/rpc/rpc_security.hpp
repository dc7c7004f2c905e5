// The checks every RPC request passes before anything runs (DESIGN.md "RPC
// security principles"), as pure functions so they are tested on their own.
//
//  - host_allowed: DNS rebinding (the CVE-2018-5702 class).  A page on
//    evil.example whose name re-resolves to 127.0.0.1 still sends
//    "Host: evil.example"; as in Transmission, a Host that is an IP literal
//    or "localhost" is always accepted, any other name only when listed.
//    A request without Host (HTTP/1.0 tools) cannot come from a browser
//    and is accepted.
//  - basic_auth_ok: HTTP Basic against "USER:PASS", compared in constant
//    time so the answer's timing says nothing about the password.
//  - is_loopback_bind: whether --rpc_bind keeps the port on this host (a
//    password is required otherwise).
//  - path_inside: whether a requested directory lies in an allowed root,
//    after normalising "." and ".." lexically (a root that is a symlink is
//    the user's choice; a request cannot climb out with "..").
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace btl::rpc {

bool host_allowed(std::string_view host_header, const std::vector<std::string>& whitelist);
bool basic_auth_ok(std::string_view authorization_header, std::string_view user_pass);
bool is_loopback_bind(std::string_view ip);
// Lexically normal absolute path ("/a/./b/../c/" -> "/a/c"); "" when `p` is
// not absolute or climbs above "/".
std::string normal_path(std::string_view p);
bool path_inside(std::string_view path, const std::vector<std::string>& roots);
// A fresh X-Transmission-Session-Id: 48 characters from the system's
// random source.
std::string new_session_id();
// The list of --rpc_host_whitelist: comma-separated, blanks trimmed,
// lower-cased; an empty item is an error (returned as "").
std::vector<std::string> split_host_list(std::string_view s, bool& ok);

}  // namespace btl::rpc
