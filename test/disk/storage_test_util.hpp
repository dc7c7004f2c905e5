// Helpers shared by the storage tests: a temp directory removed at the end,
// deterministic data, and hand-built Metainfo (parse_metainfo lives elsewhere).
#pragma once
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "btl/base/sha1.hpp"
#include "btl/core/metainfo.hpp"

namespace btl::testutil {

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/btl_storage_XXXXXX";
        path = ::mkdtemp(t);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string operator/(const std::string& rel) const { return path + "/" + rel; }
};

inline std::vector<uint8_t> pattern(size_t n, uint32_t seed = 1) {
    std::vector<uint8_t> v(n);
    uint32_t x = seed * 2654435761u + 12345;
    for (auto& b : v) {
        x = x * 1664525u + 1013904223u;
        b = uint8_t(x >> 24);
    }
    return v;
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& data) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

inline std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// Files named f0, f1, ... (or `names`) with piece hashes over `data`.
inline Metainfo make_meta(const std::vector<int64_t>& lengths, int64_t piece_length,
                          const std::vector<uint8_t>& data, bool multi = true,
                          std::vector<std::string> names = {}, std::vector<bool> pad = {}) {
    Metainfo m;
    m.name = "t";
    m.multi_file = multi;
    m.piece_length = piece_length;
    int64_t off = 0;
    for (size_t i = 0; i < lengths.size(); ++i) {
        FileEntry f;
        std::string name = i < names.size() ? names[i] : "f" + std::to_string(i);
        size_t pos = 0;
        while (true) {
            size_t s = name.find('/', pos);
            f.path.push_back(name.substr(pos, s == std::string::npos ? s : s - pos));
            if (s == std::string::npos) break;
            pos = s + 1;
        }
        f.path_string = name;
        f.length = lengths[i];
        f.offset = off;
        f.pad = i < pad.size() && pad[i];
        off += lengths[i];
        m.files.push_back(f);
    }
    m.total_length = off;
    for (int64_t p = 0; p < off; p += piece_length) {
        int64_t n = std::min(piece_length, off - p);
        Sha1Digest d = sha1(data.data() + p, size_t(n));
        m.pieces.append(reinterpret_cast<const char*>(d.data()), 20);
    }
    return m;
}

}  // namespace btl::testutil
