#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "btl/base/base64.hpp"
#include "btl/rpc/rpc_security.hpp"
#include "btl/rpc/rpc_server.hpp"

using namespace btl;
using namespace btl::rpc;

TEST_CASE("rpc host: IP literals and localhost pass, other names only when whitelisted (DNS rebinding)") {
    const std::vector<std::string> none, box = {"box.lan"};
    CHECK(host_allowed("127.0.0.1:9091", none));
    CHECK(host_allowed("192.168.1.10", none));
    CHECK(host_allowed("[::1]:9091", none));
    CHECK(host_allowed("localhost:9091", none));
    CHECK(host_allowed("LOCALHOST.", none));
    CHECK(host_allowed("", none));  // no Host: not a browser
    CHECK_FALSE(host_allowed("evil.example", none));
    CHECK_FALSE(host_allowed("evil.example:9091", none));
    CHECK_FALSE(host_allowed("localhost.evil.example", none));
    CHECK_FALSE(host_allowed("127.0.0.1.evil.example", none));
    CHECK(host_allowed("box.lan:9091", box));
    CHECK(host_allowed("BOX.LAN", box));
    CHECK_FALSE(host_allowed("box.lan.evil.example", box));
    CHECK_FALSE(host_allowed("[evil]:80", none));
    CHECK_FALSE(host_allowed("127.0.0.1:99999x", none));
}

TEST_CASE("rpc auth: HTTP Basic matches exactly USER:PASS") {
    std::string good = "Basic " + base64_encode("alice:s3cret");
    CHECK(basic_auth_ok(good, "alice:s3cret"));
    CHECK(basic_auth_ok("basic " + base64_encode("alice:s3cret"), "alice:s3cret"));
    CHECK_FALSE(basic_auth_ok("Basic " + base64_encode("alice:s3cre"), "alice:s3cret"));
    CHECK_FALSE(basic_auth_ok("Basic " + base64_encode("alice:s3cretX"), "alice:s3cret"));
    CHECK_FALSE(basic_auth_ok("Basic " + base64_encode("bob:s3cret"), "alice:s3cret"));
    CHECK_FALSE(basic_auth_ok("Bearer " + base64_encode("alice:s3cret"), "alice:s3cret"));
    CHECK_FALSE(basic_auth_ok("Basic !!!", "alice:s3cret"));
    CHECK_FALSE(basic_auth_ok("", "alice:s3cret"));
}

TEST_CASE("rpc options: a public bind needs a password; --rpc_auth needs USER:PASS") {
    RpcServerOptions o;
    CHECK(check_rpc_options(o).ok());
    o.bind = "0.0.0.0";
    CHECK_FALSE(check_rpc_options(o).ok());
    o.auth = "u:p";
    CHECK(check_rpc_options(o).ok());
    o.auth = "nocolon";
    CHECK_FALSE(check_rpc_options(o).ok());
    o.auth = "u:";
    CHECK_FALSE(check_rpc_options(o).ok());
    o.auth.clear();
    o.port = 0;  // no TCP port: nothing is exposed
    CHECK(check_rpc_options(o).ok());
    CHECK(is_loopback_bind("127.0.0.1"));
    CHECK(is_loopback_bind("127.3.2.1"));
    CHECK(is_loopback_bind("::1"));
    CHECK_FALSE(is_loopback_bind("::"));
    CHECK_FALSE(is_loopback_bind("10.0.0.1"));
    CHECK_FALSE(is_loopback_bind("localhost"));
}

TEST_CASE("rpc paths: a directory is inside a root only after '.' and '..' are resolved") {
    const std::vector<std::string> roots = {"/srv/dl"};
    CHECK(path_inside("/srv/dl", roots));
    CHECK(path_inside("/srv/dl/movies/", roots));
    CHECK(path_inside("/srv/./dl/a/../b", roots));
    CHECK_FALSE(path_inside("/srv/dl/../etc", roots));
    CHECK_FALSE(path_inside("/srv/dlx", roots));
    CHECK_FALSE(path_inside("/etc", roots));
    CHECK_FALSE(path_inside("relative/dl", roots));
    CHECK_FALSE(path_inside("/../../srv/dl", roots));
    CHECK(normal_path("/a//b/./c/..") == "/a/b");
    CHECK(normal_path("/") == "/");
}

TEST_CASE("rpc: session ids are long and differ; host lists are split and checked") {
    std::string a = new_session_id(), b = new_session_id();
    CHECK(a.size() == 48);
    CHECK(a != b);
    bool ok = false;
    auto l = split_host_list("Box.lan, nas ", ok);
    CHECK(ok);
    CHECK(l == std::vector<std::string>{"box.lan", "nas"});
    split_host_list("a,,b", ok);
    CHECK_FALSE(ok);
}
