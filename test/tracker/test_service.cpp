#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "btl/core/bencode.hpp"
#include "btl/tracker/allowed_dir.hpp"
#include "btl/tracker/service.hpp"

using namespace btl;

namespace {

const std::string kHash = "%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14";
const std::string kId = "-XX0001-%00%ff%20abcdefghi";  // 20 bytes once decoded

struct Fixture {
    TrackerRegistry reg;
    TrackerService svc{reg};
    HttpRequestParser parser;
    std::string raw;

    // Returns the body; status in *status.
    std::string get(const std::string& target, const char* remote = "203.0.113.5", int* status = nullptr) {
        raw = "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n";
        parser.reset();
        REQUIRE(parser.parse(raw) == HttpParse::complete);
        PeerAddr addr;
        REQUIRE(PeerAddr::parse(remote, addr));
        std::string out;
        svc.handle(parser.request(), addr, 1000, out);
        size_t sep = out.find("\r\n\r\n");
        REQUIRE(sep != std::string::npos);
        if (status) *status = std::stoi(out.substr(9, 3));
        std::string body = out.substr(sep + 4);
        CHECK(out.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
        return body;
    }
    std::string failure(const std::string& target) {
        std::string body = get(target);  // decode() points into it
        auto d = decode(body);
        REQUIRE(d.ok());
        return std::string(d->root().find_string("failure reason").string());
    }
};

}  // namespace

TEST_CASE("service: announce parameters are validated with clear failure reasons") {
    Fixture f;
    CHECK(f.failure("/announce?peer_id=" + kId + "&port=1") == "missing info_hash");
    CHECK(f.failure("/announce?info_hash=abc&peer_id=" + kId + "&port=1") == "info_hash must be 20 bytes");
    CHECK(f.failure("/announce?info_hash=" + kHash + "&port=1") == "missing peer_id");
    CHECK(f.failure("/announce?info_hash=" + kHash + "&peer_id=" + kId) == "missing port");
    for (const char* port : {"0", "65536", "-1", "x", "1x", "%"})
        CHECK(f.failure("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=" + port) == "invalid port");
    CHECK(f.failure("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=1&left=-5") == "invalid left");
    CHECK(f.failure("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=1&event=bogus") == "invalid event");
    CHECK(f.failure("/announce?info_hash=%zz&peer_id=" + kId + "&port=1") == "info_hash must be 20 bytes");
}

TEST_CASE("service: a valid announce registers the peer with its binary ids") {
    Fixture f;
    std::string body = f.get("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=6881&left=0&compact=1");
    auto d = decode(body);
    REQUIRE(d.ok());
    CHECK(d->root().find_int("complete").int_value() == 1);
    Sha1Digest ih;
    for (int i = 0; i < 20; ++i) ih[i] = static_cast<uint8_t>(i + 1);
    REQUIRE(f.reg.counts(ih));
    CHECK(f.reg.counts(ih)->complete == 1);
}

TEST_CASE("service: the ip parameter is honoured only from local networks") {
    Fixture f;
    std::string base = "/announce?info_hash=" + kHash + "&port=7000&ip=10.9.9.9&compact=0&peer_id=";
    f.get(base + "AAAAAAAAAAAAAAAAAAAA", "203.0.113.5");  // remote: ip= ignored
    f.get(base + "BBBBBBBBBBBBBBBBBBBB", "192.168.1.7");  // LAN: ip= used
    std::string body = f.get("/announce?info_hash=" + kHash + "&peer_id=CCCCCCCCCCCCCCCCCCCC&port=1&compact=0");
    CAPTURE(body);
    CHECK(body.find("11:203.0.113.5") != std::string::npos);
    CHECK(body.find("8:10.9.9.9") != std::string::npos);
    CHECK(body.find("192.168.1.7") == std::string::npos);
}

TEST_CASE("service: allowed set rejects unknown torrents and asks for a rescan") {
    Fixture f;
    auto allowed = std::make_shared<AllowedMap>();
    int rescans = 0;
    f.svc.on_unknown_torrent = [&] { ++rescans; };
    f.svc.set_allowed(allowed);
    std::string q = "/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=1";
    CHECK(f.failure(q) == "torrent not allowed");
    CHECK(rescans == 1);
    Sha1Digest ih;
    for (int i = 0; i < 20; ++i) ih[i] = static_cast<uint8_t>(i + 1);
    (*allowed)[ih] = "x";
    CHECK(f.failure(q).empty());
}

TEST_CASE("service: scrape, status page, 404 and 405") {
    Fixture f;
    f.get("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=1&left=3");
    std::string body = f.get("/scrape?info_hash=" + kHash);
    auto d = decode(body);
    REQUIRE(d.ok());
    CHECK(d->root().find_dict("files").size() == 1);
    int status = 0;
    std::string page = f.get("/", "127.0.0.1", &status);
    CHECK(status == 200);
    CHECK(page.find("torrents: 1  seeds: 0  leechers: 1") != std::string::npos);
    f.get("/nope", "127.0.0.1", &status);
    CHECK(status == 404);
    std::string out;
    f.raw = "POST /announce HTTP/1.1\r\n\r\n";
    f.parser.reset();
    REQUIRE(f.parser.parse(f.raw) == HttpParse::complete);
    CHECK_FALSE(f.svc.handle(f.parser.request(), PeerAddr::from_v4(0x7f000001), 1, out));
    CHECK(out.rfind("HTTP/1.1 405", 0) == 0);
}

TEST_CASE("allowed_dir: info-hash is SHA-1 of the raw info dictionary") {
    std::string t = "d8:announce3:url4:infod6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces20:" +
                    std::string(20, 'p') + "ee";
    auto id = torrent_identity(t);
    REQUIRE(id.ok());
    size_t at = t.find("4:info") + 6;
    CHECK(id->info_hash == sha1(std::string_view(t).substr(at, t.size() - 1 - at)));
    CHECK(id->name == "x");
    CHECK_FALSE(torrent_identity("d3:fooi1ee").ok());
}
