#include "btl/disk/resume.hpp"

#include "btl/base/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "btl/core/bencode.hpp"

namespace btl {

namespace {

// The queue, goal and limit keys, each optional.
struct IntKey {
    const char* name;
    int64_t ResumeData::*member;
    int64_t min, max;
};
constexpr IntKey kQueueInts[] = {
    {"queue-key", &ResumeData::queue_key, -1, INT64_MAX},
    {"seed-ratio-milli", &ResumeData::seed_ratio_milli, 0, INT64_MAX},
    {"seed-ratio-mode", &ResumeData::seed_ratio_mode, 0, 2},
    {"seed-idle-minutes", &ResumeData::seed_idle_minutes, 0, INT64_MAX},
    {"seed-idle-mode", &ResumeData::seed_idle_mode, 0, 2},
    {"up-limit", &ResumeData::up_limit, 0, INT64_MAX},
    {"down-limit", &ResumeData::down_limit, 0, INT64_MAX},
    {"priority", &ResumeData::priority, -1, 1},
};
struct BoolKey {
    const char* name;
    bool ResumeData::*member;
};
constexpr BoolKey kQueueBools[] = {
    {"finished", &ResumeData::finished},
    {"goals-waived", &ResumeData::goals_waived},
    {"up-limited", &ResumeData::up_limited},
    {"down-limited", &ResumeData::down_limited},
};

void encode_queue_keys(const ResumeData& r, BValue& d) {
    for (const auto& k : kQueueInts) d[k.name] = r.*k.member;
    for (const auto& k : kQueueBools) d[k.name] = int64_t(r.*k.member ? 1 : 0);
}

Status decode_queue_keys(BNode root, ResumeData& r) {
    for (const auto& k : kQueueInts) {
        BNode n = root.find(k.name);
        if (!n) continue;
        if (!n.is_int() || n.int_value() < k.min || n.int_value() > k.max)
            return make_error(std::string("resume data: \"") + k.name + "\" is not a valid integer");
        r.*k.member = n.int_value();
    }
    for (const auto& k : kQueueBools) {
        BNode n = root.find(k.name);
        if (!n) continue;
        if (!n.is_int() || (n.int_value() != 0 && n.int_value() != 1))
            return make_error(std::string("resume data: \"") + k.name + "\" is not 0 or 1");
        r.*k.member = n.int_value() == 1;
    }
    return Ok{};
}

}  // namespace

std::string encode_resume(const ResumeData& r) {
    BValue d = BValue::dict();
    d["version"] = resume_format_version;
    d["info-hash"] = std::string(reinterpret_cast<const char*>(r.info_hash.data()), r.info_hash.size());
    d["pieces"] = int64_t(r.num_pieces);
    d["have"] = r.have_bits;
    BValue files = BValue::list();
    for (const auto& f : r.files) {
        BValue pair = BValue::list();
        pair.as_list().push_back(BValue(f.size));
        pair.as_list().push_back(BValue(f.mtime_ns));
        pair.as_list().push_back(BValue(int64_t(f.synced ? 1 : 0)));
        files.as_list().push_back(std::move(pair));
    }
    d["files"] = std::move(files);
    d["uploaded"] = r.uploaded;
    d["downloaded"] = r.downloaded;
    d["save-path"] = r.save_path;
    d["added"] = r.added_time;
    d["completed"] = r.completed_time;
    d["paused"] = int64_t(r.paused ? 1 : 0);
    d["boot-id"] = r.boot_id;
    // places and labels
    if (r.placed) d["placed"] = r.placed;
    if (!r.move_to.empty()) {
        d["move-from"] = r.move_from;
        d["move-to"] = r.move_to;
        d["move-placed"] = r.move_placed;
    }
    if (!r.label.empty()) d["label"] = r.label;
    encode_queue_keys(r, d);
    // per-file choices and sequential download (optional keys)
    if (!r.files_wanted.empty()) {
        BValue w = BValue::list(), p = BValue::list();
        for (bool b : r.files_wanted) w.as_list().push_back(BValue(int64_t(b ? 1 : 0)));
        for (int8_t v : r.file_priorities) p.as_list().push_back(BValue(int64_t(v)));
        d["files-wanted"] = std::move(w);
        d["file-priorities"] = std::move(p);
    }
    if (r.sequential) d["sequential"] = int64_t(1);
    return encode(d);
}

namespace {

Result<int64_t> get_int(BNode dict, const char* key, int64_t min, int64_t max) {
    BNode n = dict.find(key);
    if (!n) return make_error(std::string("resume data lacks \"") + key + "\"");
    if (!n.is_int()) return make_error(std::string("resume data: \"") + key + "\" is not an integer");
    int64_t v = n.int_value();
    if (v < min || v > max) return make_error(std::string("resume data: \"") + key + "\" out of range");
    return v;
}

Result<std::string_view> get_str(BNode dict, const char* key) {
    BNode n = dict.find(key);
    if (!n) return make_error(std::string("resume data lacks \"") + key + "\"");
    if (!n.is_string()) return make_error(std::string("resume data: \"") + key + "\" is not a string");
    return n.string();
}

// The optional keys of places and labels.
Status decode_places(BNode root, ResumeData& r) {
    if (root.find("placed")) {
        auto placed = get_int(root, "placed", 0, 2);
        if (!placed) return placed.error();
        r.placed = *placed;
    }
    if (root.find("move-to")) {
        auto from = get_str(root, "move-from");
        if (!from) return from.error();
        auto to = get_str(root, "move-to");
        if (!to) return to.error();
        auto mp = get_int(root, "move-placed", 0, 2);
        if (!mp) return mp.error();
        if (from->empty() || to->empty()) return make_error("resume data: empty move path");
        r.move_from = std::string(*from);
        r.move_to = std::string(*to);
        r.move_placed = *mp;
    }
    if (root.find("label")) {
        auto label = get_str(root, "label");
        if (!label) return label.error();
        if (label->size() > 255) return make_error("resume data: \"label\" is too long");
        r.label = std::string(*label);
    }
    return Ok{};
}

// The optional per-file keys: one entry per file, in range, or absent.
Status decode_file_choices(BNode root, ResumeData& r) {
    BNode w = root.find("files-wanted"), p = root.find("file-priorities");
    if (w || p) {
        if (!w.is_list() || !p.is_list() || w.size() != r.files.size() || p.size() != r.files.size())
            return make_error("resume data: \"files-wanted\"/\"file-priorities\" must be lists of one entry per file");
        for (BNode v : w.list_items()) {
            if (!v.is_int() || (v.int_value() != 0 && v.int_value() != 1))
                return make_error("resume data: malformed \"files-wanted\" entry");
            r.files_wanted.push_back(v.int_value() == 1);
        }
        for (BNode v : p.list_items()) {
            if (!v.is_int() || v.int_value() < -1 || v.int_value() > 1)
                return make_error("resume data: malformed \"file-priorities\" entry");
            r.file_priorities.push_back(int8_t(v.int_value()));
        }
    }
    if (root.find("sequential")) {
        auto seq = get_int(root, "sequential", 0, 1);
        if (!seq) return seq.error();
        r.sequential = *seq == 1;
    }
    return Ok{};
}

}  // namespace

Result<ResumeData> decode_resume(std::string_view bytes) {
    DecodeLimits lim;
    lim.max_size = 64u << 20;
    auto doc = decode(bytes, lim);
    if (!doc) return make_error("resume data is not valid bencode: " + doc.error().describe());
    BNode root = doc->root();
    if (!root.is_dict()) return make_error("resume data is not a dictionary");

    auto ver = get_int(root, "version", 0, INT64_MAX);
    if (!ver) return ver.error();
    if (*ver != 1 && *ver != resume_format_version)
        return make_error("unsupported resume format version " + std::to_string(*ver));
    const bool v1 = *ver == 1;

    ResumeData r;
    auto ih = get_str(root, "info-hash");
    if (!ih) return ih.error();
    if (ih->size() != 20) return make_error("resume data: info-hash is not 20 bytes");
    std::memcpy(r.info_hash.data(), ih->data(), 20);

    auto np = get_int(root, "pieces", 0, UINT32_MAX);
    if (!np) return np.error();
    r.num_pieces = uint32_t(*np);

    auto have = get_str(root, "have");
    if (!have) return have.error();
    if (have->size() != (size_t(r.num_pieces) + 7) / 8)
        return make_error("resume data: have bitfield has the wrong size");
    if (r.num_pieces % 8 != 0 && !have->empty()) {
        uint8_t spare = uint8_t(0xff >> (r.num_pieces % 8));
        if (uint8_t(have->back()) & spare) return make_error("resume data: have bitfield has spare bits set");
    }
    r.have_bits = std::string(*have);

    BNode files = root.find("files");
    if (!files.is_list()) return make_error("resume data: \"files\" missing or not a list");
    for (BNode f : files.list_items()) {
        // [size, mtime] in version 1, [size, mtime, synced] since.
        if (!f.is_list() || f.size() != (v1 ? 2u : 3u) || !f.at(0).is_int() || !f.at(1).is_int() ||
            f.at(0).int_value() < -1)
            return make_error("resume data: malformed file entry");
        bool synced = true;
        if (!v1) {
            if (!f.at(2).is_int() || (f.at(2).int_value() != 0 && f.at(2).int_value() != 1))
                return make_error("resume data: malformed file entry");
            synced = f.at(2).int_value() == 1;
        }
        r.files.push_back(ResumeFile{f.at(0).int_value(), f.at(1).int_value(), synced});
    }

    auto up = get_int(root, "uploaded", 0, INT64_MAX);
    if (!up) return up.error();
    auto down = get_int(root, "downloaded", 0, INT64_MAX);
    if (!down) return down.error();
    auto sp = get_str(root, "save-path");
    if (!sp) return sp.error();
    auto added = get_int(root, "added", 0, INT64_MAX);
    if (!added) return added.error();
    auto completed = get_int(root, "completed", 0, INT64_MAX);
    if (!completed) return completed.error();
    auto paused = get_int(root, "paused", 0, 1);
    if (!paused) return paused.error();
    r.uploaded = *up;
    r.downloaded = *down;
    r.save_path = std::string(*sp);
    r.added_time = *added;
    r.completed_time = *completed;
    r.paused = *paused == 1;
    if (!v1) {
        auto boot = get_str(root, "boot-id");
        if (!boot) return boot.error();
        if (boot->size() > 64) return make_error("resume data: \"boot-id\" is too long");
        r.boot_id = std::string(*boot);
    }
    if (Status st = decode_places(root, r); !st.ok()) return st.error();
    if (Status st = decode_queue_keys(root, r); !st.ok()) return st.error();
    if (Status st = decode_file_choices(root, r); !st.ok()) return st.error();
    return r;
}

namespace {

std::string io_error(const char* verb, const std::string& path, int e) {
    if (e == ENOSPC) return "disk full writing " + path;
    if (e == EDQUOT) return "disk quota exceeded writing " + path;
    return std::string("cannot ") + verb + " " + path + ": " + std::strerror(e);
}

int mkdir_p(const std::string& dir) {
    for (size_t i = 1; i <= dir.size(); ++i) {
        if (i != dir.size() && dir[i] != '/') continue;
        if (::mkdir(dir.substr(0, i).c_str(), 0700) != 0 && errno != EEXIST) return errno;
    }
    return 0;
}

}  // namespace

Status save_resume_atomic(const std::string& path, std::string_view bytes) {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    if (int e = mkdir_p(dir)) return make_error(io_error("create directory", dir, e));

    return write_file_atomic(path, bytes, true);
}

const std::string& current_boot_id() {
    static const std::string id = [] {
        auto b = read_small_file("/proc/sys/kernel/random/boot_id", 128);
        if (!b.ok()) return std::string();
        std::string s = *b;
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s.size() <= 64 ? s : std::string();
    }();
    return id;
}

Status save_resume_files(const std::string& path, ResumeData rd, const Storage& storage, DataSync mode,
                         bool* all_synced) {
    auto now = storage.stat_files();
    std::vector<ResumeFile> before;
    if (auto old = read_small_file(path, 64u << 20); old.ok())
        if (auto d = decode_resume(*old); d.ok()) before = std::move(d->files);
    rd.files = resume_files(now);
    const FileLayout& layout = storage.layout();
    for (uint32_t i = 0; i < now.size(); ++i) {
        ResumeFile& f = rd.files[i];
        f.synced = true;
        if (!now[i].exists || layout.is_pad(i) || now[i].size == 0) continue;
        if (i < before.size() && before.size() == now.size() && before[i].size == now[i].size &&
            before[i].mtime_ns == now[i].mtime_ns && before[i].synced)
            continue;  // unchanged since a save that synced it
        if (mode == DataSync::no_sync) {
            f.synced = false;  // trusted only in this boot
            continue;
        }
        std::string fp = storage.file_path(i);
        int fd = ::open(fp.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
            if (errno == ENOENT) continue;  // removed meanwhile: nothing of it is claimed
            return make_error("cannot open " + fp + " to sync it: " + std::strerror(errno));
        }
        struct stat st {};
        int rc = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? ::fdatasync(fd) : 0;
        int e = errno;
        ::close(fd);
        if (rc != 0) return make_error("cannot sync " + fp + ": " + std::strerror(e));
    }
    rd.boot_id = current_boot_id();
    if (all_synced)
        *all_synced = std::all_of(rd.files.begin(), rd.files.end(), [](const ResumeFile& f) { return f.synced; });
    return save_resume_atomic(path, encode_resume(rd));
}

std::map<std::string, std::vector<std::string>> find_resume_temps(const std::string& data_dir) {
    std::map<std::string, std::vector<std::string>> out;
    std::string dir = data_dir + "/resume";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    static const std::string_view mid = ".resume.tmp.";
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n.size() <= 40 + mid.size() || n.substr(40, mid.size()) != mid) continue;
        std::string hex(n.substr(0, 40));
        if (hex.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
        out[hex].push_back(dir + "/" + std::string(n));
    }
    ::closedir(d);
    return out;
}

Result<std::string> read_small_file(const std::string& path, size_t max) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error("cannot open " + path + ": " + std::strerror(errno));
    std::string out;
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
        if (uint64_t(st.st_size) > max) {
            ::close(fd);
            return make_error(path + " is too large (" + std::to_string(st.st_size) + " bytes, limit " +
                              std::to_string(max) + ")");
        }
        out.reserve(size_t(st.st_size));
    }
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            return make_error("cannot read " + path + ": " + std::strerror(e));
        }
        if (n == 0) break;
        if (out.size() + size_t(n) > max) {
            ::close(fd);
            return make_error(path + " is too large (limit " + std::to_string(max) + " bytes)");
        }
        out.append(buf, size_t(n));
    }
    ::close(fd);
    return out;
}

std::vector<uint8_t> trusted_pieces(const ResumeData& r, const FileLayout& layout,
                                    const std::vector<FileStat>& now, const std::string& boot_id) {
    const bool same_boot = !boot_id.empty() && boot_id == r.boot_id;
    uint32_t n = layout.num_pieces();
    std::vector<uint8_t> out(n, 0);
    if (r.num_pieces != n || r.have_bits.size() != (size_t(n) + 7) / 8 ||
        r.files.size() != layout.num_files() || now.size() != layout.num_files())
        return out;
    for (uint32_t i = 0; i < n; ++i)
        out[i] = (uint8_t(r.have_bits[i / 8]) >> (7 - i % 8)) & 1;
    // A changed file invalidates exactly the pieces it touches; so does one
    // that was not synced, after a reboot (its tail may never have been
    // written back).
    for (uint32_t f = 0; f < layout.num_files(); ++f) {
        if (layout.is_pad(f) || layout.file_length(f) == 0) continue;
        const FileStat& s = now[f];
        if (s.exists && s.size == r.files[f].size && s.mtime_ns == r.files[f].mtime_ns &&
            (r.files[f].synced || same_boot))
            continue;
        auto [first, last] = layout.pieces_of_file(f);
        for (uint32_t p = first; p <= last && p < n; ++p) out[p] = 0;
    }
    return out;
}

std::string pieces_to_bits(const std::vector<uint8_t>& mask) {
    std::string bits((mask.size() + 7) / 8, '\0');
    for (size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) bits[i / 8] = char(uint8_t(bits[i / 8]) | (0x80 >> (i % 8)));
    return bits;
}

std::vector<ResumeFile> resume_files(const std::vector<FileStat>& now) {
    std::vector<ResumeFile> out;
    out.reserve(now.size());
    for (const auto& s : now) out.push_back(ResumeFile{s.exists ? s.size : -1, s.mtime_ns});
    return out;
}

std::string resume_path(const std::string& data_dir, const Sha1Digest& info_hash) {
    return data_dir + "/resume/" + to_hex(info_hash) + ".resume";
}

std::string default_data_dir() {
    const char* xdg = ::getenv("XDG_STATE_HOME");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/btlaunchmany";
    const char* home = ::getenv("HOME");
    std::string h = home && home[0] ? home : "";
    if (h.empty()) {
        if (struct passwd* pw = ::getpwuid(::getuid())) h = pw->pw_dir;
    }
    if (h.empty()) h = "/tmp";
    return h + "/.local/state/btlaunchmany";
}

}  // namespace btl
