#pragma once
// Shared by the tests that run a real Session on a private loop: a scratch
// directory and the options of a session that stays on loopback.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "btl/engine/engine_types.hpp"

namespace btl::testing {

// A fresh directory /tmp/btl-TAG-XXXXXX with watch/ and data/ in it.
inline std::string scratch_dir(const std::string& tag) {
    std::string path = "/tmp/btl-" + tag + "-XXXXXX";
    REQUIRE(mkdtemp(path.data()) != nullptr);
    std::filesystem::create_directories(path + "/watch");
    std::filesystem::create_directories(path + "/data");
    return path;
}

// A session listening on 127.0.0.1 (a free port in 20000-60000), its state
// in DIR/state; the DHT, LSD, UPnP and NAT-PMP stay off (the struct's
// defaults, said here so no test depends on them).
inline SessionOptions loopback_session(const std::string& dir) {
    SessionOptions so;
    so.bind_ip = "127.0.0.1";
    so.minport = 20000;
    so.maxport = 60000;
    so.data_dir = dir + "/state";
    so.dht = false;
    so.lsd = false;
    so.upnp = false;
    so.natpmp = false;
    return so;
}

}  // namespace btl::testing
