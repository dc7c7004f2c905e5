// Fuzz targets: one entry point per parser of hostile input, shared by two
// builds.
//
// Each test/fuzz/fuzz_NAME.cpp defines `int fuzz_NAME(const uint8_t*, size_t)`
// that feeds the bytes to the parser the engine uses and checks invariants
// that must hold for every input (round trips, bounds).  `make fuzz` compiles
// the file with -DBTL_LIBFUZZER under clang, where BTL_FUZZ_ENTRY also emits
// libFuzzer's LLVMFuzzerTestOneInput; the normal build links the same
// functions into the unit tests, which replay the committed corpus and every
// crash ever found (test/test_fuzz_replay.cpp).
//
// A broken invariant aborts under libFuzzer (so it is saved as a crash) and
// throws FuzzInvariantError in the unit tests (so doctest names the input).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace btl::fuzz {

struct FuzzInvariantError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void invariant_failed(const char* expr, const char* file, int line) {
    std::string what = std::string(file) + ":" + std::to_string(line) + ": invariant failed: " + expr;
#ifdef BTL_LIBFUZZER
    std::fprintf(stderr, "%s\n", what.c_str());
    std::abort();
#else
    throw FuzzInvariantError(what);
#endif
}

// Reads input bytes front to back; past the end it yields zeros.  Targets
// use it to let the input choose chunk sizes and modes.
class ByteReader {
public:
    ByteReader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
    uint8_t u8() { return pos_ < n_ ? p_[pos_++] : 0; }
    size_t remaining() const { return n_ - pos_; }
    const uint8_t* rest() const { return p_ + pos_; }

private:
    const uint8_t* p_;
    size_t n_;
    size_t pos_ = 0;
};

}  // namespace btl::fuzz

#define BTL_FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : ::btl::fuzz::invariant_failed(#cond, __FILE__, __LINE__))

// Every target: a plain function for the unit tests, plus the libFuzzer entry
// in the fuzz build.
#define BTL_FUZZ_DECLARE(name) int name(const uint8_t* data, size_t size)
#ifdef BTL_LIBFUZZER
#define BTL_FUZZ_ENTRY(name) \
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return name(data, size); }
#else
#define BTL_FUZZ_ENTRY(name)
#endif

namespace btl::fuzz {
BTL_FUZZ_DECLARE(fuzz_bencode);
BTL_FUZZ_DECLARE(fuzz_extension);
BTL_FUZZ_DECLARE(fuzz_magnet);
BTL_FUZZ_DECLARE(fuzz_pex);
BTL_FUZZ_DECLARE(fuzz_metainfo);
BTL_FUZZ_DECLARE(fuzz_peer_stream);
BTL_FUZZ_DECLARE(fuzz_http_tracker);
BTL_FUZZ_DECLARE(fuzz_udp_tracker);
BTL_FUZZ_DECLARE(fuzz_http_request);
BTL_FUZZ_DECLARE(fuzz_resume);
BTL_FUZZ_DECLARE(fuzz_tracker_state);
BTL_FUZZ_DECLARE(fuzz_lsd);
BTL_FUZZ_DECLARE(fuzz_mse);
BTL_FUZZ_DECLARE(fuzz_rpc_request);
BTL_FUZZ_DECLARE(fuzz_rpc_dispatch);
BTL_FUZZ_DECLARE(fuzz_rpc_client);
BTL_FUZZ_DECLARE(fuzz_utp);
BTL_FUZZ_DECLARE(fuzz_krpc);
BTL_FUZZ_DECLARE(fuzz_label_config);
BTL_FUZZ_DECLARE(fuzz_udp_demux);  // IPv6 / shared UDP socket
BTL_FUZZ_DECLARE(fuzz_announce_query);  // bttrack's announce query, BEP 7 ipv6=/ipv4=
BTL_FUZZ_DECLARE(fuzz_dht_state);  // dht.dat with nodes6 (BEP 32)
BTL_FUZZ_DECLARE(fuzz_read_slab);  // the peer read buffer whose ranges blocks keep
}  // namespace btl::fuzz
