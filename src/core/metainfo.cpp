#include "btl/core/metainfo.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>

#include "btl/core/bencode.hpp"

namespace btl {

// ---- accessors ---------------------------------------------------------------

Sha1Digest Metainfo::piece_hash(uint32_t i) const {
    Sha1Digest d{};
    if (size_t(i) * 20 + 20 <= pieces.size()) std::memcpy(d.data(), pieces.data() + size_t(i) * 20, 20);
    return d;
}

int64_t Metainfo::piece_size(uint32_t i) const {
    if (i >= num_pieces()) return 0;
    int64_t start = int64_t(i) * piece_length;
    return std::min(piece_length, total_length - start);
}

std::vector<std::vector<std::string>> Metainfo::tracker_tiers() const {
    if (!announce_list.empty()) return announce_list;
    if (announce.empty()) return {};
    return {{announce}};
}

// ---- parsing -----------------------------------------------------------------

namespace {

enum class ElemResult { keep, drop, error };

// Sanitises one path element (see the header for the rules).  `what` names
// the element in messages, e.g. "file 3" or "name".
ElemResult sanitise_element(std::string_view raw, std::string& out, std::string& err,
                            const std::string& what, std::vector<std::string>& warnings) {
    if (raw.empty() || raw == ".") return ElemResult::drop;
    if (raw == "..") {
        err = "path element '..' in " + what;
        return ElemResult::error;
    }
    for (char ch : raw) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '/') {
            err = "path element containing '/' in " + what;
            return ElemResult::error;
        }
        if (c == '\\') {
            err = "path element containing '\\' in " + what;
            return ElemResult::error;
        }
        if (c == 0) {
            err = "path element containing NUL in " + what;
            return ElemResult::error;
        }
        if (c < 0x20 || c == 0x7f) {
            err = "path element containing a control character in " + what;
            return ElemResult::error;
        }
    }
    if (is_valid_utf8(raw)) {
        out.assign(raw);
    } else {
        out = escape_invalid_utf8(raw);
        warnings.push_back("invalid UTF-8 in " + what + " escaped as '" + out + "'");
    }
    return ElemResult::keep;
}

std::string join(const std::vector<std::string>& elems, size_t upto) {
    std::string s;
    for (size_t i = 0; i < upto && i < elems.size(); ++i) {
        if (i) s += '/';
        s += elems[i];
    }
    return s;
}

// Renames later files that collide with earlier ones (see the header).
//
// The paths seen so far form a tree of elements, so checking a path costs
// one lookup per element: a hostile torrent with many colliding or very
// deep paths stays linear (joining every prefix into a string and looking
// it up in a set was quadratic in the depth).  Each node remembers the
// suffix where its last rename search stopped, so a thousand files called
// "a" do not each try "a.1", "a.2", ... from the start; earlier suffixes
// can only have become more taken since, so the names are the same as a
// search from 1.  Nodes live in one vector and refer to each other by
// index: a tree of nested maps would be destroyed recursively, and a path
// 200,000 elements deep would overflow the stack.
struct PathNode {
    std::map<std::string, uint32_t, std::less<>> kids;  // element -> node index
    bool file = false;          // some earlier file has exactly this path
    bool dir = false;           // some earlier file lies below this path
    uint64_t next_suffix[2] = {1, 1};  // [as a directory, as a file name]
};

void resolve_collisions(std::vector<FileEntry>& files, std::vector<std::string>& warnings) {
    std::vector<PathNode> nodes(1);  // nodes[0]: the torrent's root
    for (size_t fi = 0; fi < files.size(); ++fi) {
        FileEntry& f = files[fi];
        if (f.pad) continue;
        auto& e = f.path;
        const std::string before = f.path_string;
        uint32_t node = 0;
        for (size_t d = 0; d < e.size(); ++d) {
            const bool last = d + 1 == e.size();
            // A file's path may not equal an earlier file's path, nor (for
            // the file name itself) an earlier file's directory.
            auto taken = [&](std::string_view name) {
                const auto& kids = nodes[node].kids;
                auto it = kids.find(name);
                return it != kids.end() && (nodes[it->second].file || (last && nodes[it->second].dir));
            };
            if (taken(e[d])) {
                const uint32_t clash = nodes[node].kids.find(e[d])->second;
                const std::string base = e[d];
                uint64_t k = nodes[clash].next_suffix[last];
                for (;; ++k) {
                    e[d] = base + "." + std::to_string(k);
                    if (!taken(e[d])) break;
                }
                nodes[clash].next_suffix[last] = k;
            }
            auto [it, added] = nodes[node].kids.try_emplace(e[d], uint32_t(nodes.size()));
            const uint32_t next = it->second;
            if (added) nodes.emplace_back();
            node = next;
            if (last)
                nodes[node].file = true;
            else
                nodes[node].dir = true;
        }
        f.path_string = join(e, e.size());
        if (f.path_string != before)
            warnings.push_back("file " + std::to_string(fi) + " path '" + before +
                               "' collides with an earlier file; renamed to '" + f.path_string + "'");
    }
}

Result<std::string> parse_name(BNode info, std::vector<std::string>& warnings) {
    BNode n = info.find("name");
    if (!n) return make_error("info has no 'name'");
    if (!n.is_string()) return make_error("info.name is not a string", n.offset());
    std::string_view raw = n.string();
    if (raw.empty() || raw == "." || raw == "..")
        return make_error("invalid info.name '" + std::string(raw) + "'", n.offset());
    std::string out, err;
    if (sanitise_element(raw, out, err, "name", warnings) == ElemResult::error)
        return make_error(err, n.offset());
    return out;
}

bool add_overflows(int64_t a, int64_t b, int64_t& out) { return __builtin_add_overflow(a, b, &out); }

Status parse_files(BNode info, Metainfo& m, const MetainfoLimits& lim) {
    BNode len = info.find("length");
    BNode files = info.find("files");
    if (len && files) return make_error("info has both 'length' and 'files'", info.offset());
    // A v2-only torrent (BEP 52) describes its files only in "file tree";
    // say what it is rather than that something is missing.  A hybrid has
    // "files" or "length" too and is read as v1.
    if (!len && !files && (info.find("file tree") || info.find_int("meta version")))
        return make_error("BitTorrent v2-only torrent (BEP 52) is not supported yet");
    if (!len && !files) return make_error("info has neither 'length' nor 'files'", info.offset());
    if (len) {
        if (!len.is_int()) return make_error("info.length is not an integer", len.offset());
        if (len.int_value() < 0)
            return make_error("negative length " + std::to_string(len.int_value()), len.offset());
        FileEntry f;
        f.path = {m.name};
        f.path_string = m.name;
        f.length = len.int_value();
        m.files.push_back(std::move(f));
        m.total_length = len.int_value();
        m.content_length = m.total_length;
        return Ok{};
    }
    if (!files.is_list()) return make_error("info.files is not a list", files.offset());
    if (files.size() == 0) return make_error("info.files is empty", files.offset());
    if (files.size() > lim.max_files)
        return make_error("torrent has " + std::to_string(files.size()) + " files, over the limit of " +
                              std::to_string(lim.max_files),
                          files.offset());
    m.multi_file = true;
    m.files.reserve(files.size());
    int64_t total = 0;
    size_t idx = 0;
    for (BNode fd : files.list_items()) {
        const std::string what = "file " + std::to_string(idx);
        if (!fd.is_dict()) return make_error(what + " is not a dictionary", fd.offset());
        BNode fl = fd.find("length");
        if (!fl) return make_error(what + " has no length", fd.offset());
        if (!fl.is_int()) return make_error(what + " length is not an integer", fl.offset());
        if (fl.int_value() < 0)
            return make_error(what + " has negative length " + std::to_string(fl.int_value()), fl.offset());
        BNode fp = fd.find("path");
        if (!fp) return make_error(what + " has no path", fd.offset());
        if (!fp.is_list()) return make_error(what + " path is not a list", fp.offset());
        FileEntry f;
        f.length = fl.int_value();
        for (BNode el : fp.list_items()) {
            if (!el.is_string()) return make_error(what + " has a path element that is not a string", el.offset());
            std::string out, err;
            ElemResult r = sanitise_element(el.string(), out, err, what, m.warnings);
            if (r == ElemResult::error) return make_error(err, el.offset());
            if (r == ElemResult::keep) f.path.push_back(std::move(out));
        }
        if (f.path.empty()) return make_error(what + " has an empty path", fp.offset());
        BNode attr = fd.find_string("attr");
        f.pad = attr && attr.string().find('p') != std::string_view::npos;
        f.path_string = join(f.path, f.path.size());
        f.offset = total;
        if (add_overflows(total, f.length, total))
            return make_error("total length overflows 64 bits at " + what, fl.offset());
        m.files.push_back(std::move(f));
        ++idx;
    }
    m.total_length = total;
    m.content_length = 0;
    for (const auto& f : m.files)
        if (!f.pad) m.content_length += f.length;  // no overflow: a part of total
    resolve_collisions(m.files, m.warnings);
    return Ok{};
}

// Optional string fields: wrong types are ignored, as other clients do.
std::string opt_string(BNode dict, std::string_view key) {
    BNode n = dict.find_string(key);
    return n ? std::string(n.string()) : std::string();
}

void parse_trackers(BNode root, Metainfo& m) {
    m.announce = opt_string(root, "announce");
    if (BNode al = root.find_list("announce-list")) {
        for (BNode tier : al.list_items()) {
            if (!tier.is_list()) continue;
            std::vector<std::string> urls;
            for (BNode u : tier.list_items())
                if (u.is_string() && !u.string().empty()) urls.emplace_back(u.string());
            if (!urls.empty()) m.announce_list.push_back(std::move(urls));
        }
    }
    BNode ul = root.find("url-list");
    if (ul.is_string() && !ul.string().empty()) m.url_list.emplace_back(ul.string());
    if (ul.is_list())
        for (BNode u : ul.list_items())
            if (u.is_string() && !u.string().empty()) m.url_list.emplace_back(u.string());
}

// Until DHT and web seeds land, a torrent with no tracker gets no peer at
// all: one line saying why beats a download stuck at 0 % in silence.
void warn_unsupported_sources(Metainfo& m) {
    if (!m.tracker_tiers().empty()) return;
    if (m.url_list.empty())
        m.warnings.push_back("no trackers: DHT is not supported yet");
    else
        m.warnings.push_back("no trackers, only web seeds: web seeds (BEP 19) are not supported yet");
}

}  // namespace

bool is_magnet_uri(std::string_view s) {
    if (s.size() < 7) return false;
    for (size_t i = 0; i < 7; ++i)
        if (char(std::tolower(static_cast<unsigned char>(s[i]))) != "magnet:"[i]) return false;
    return true;
}

Result<Metainfo> parse_metainfo(std::string_view bytes, const MetainfoLimits& lim) {
    DecodeLimits dl;
    dl.max_size = lim.max_file_size;
    auto doc = decode(bytes, dl);
    if (!doc) return doc.error();
    BNode root = doc->root();
    if (!root.is_dict()) return make_error("torrent is not a dictionary", 0);
    BNode info = root.find("info");
    if (!info) return make_error("missing info dictionary", 0);
    if (!info.is_dict()) return make_error("info is not a dictionary", info.offset());

    Metainfo m;
    m.info_bytes.assign(info.raw());
    m.info_hash = sha1(info.raw());

    auto name = parse_name(info, m.warnings);
    if (!name) return name.error();
    m.name = std::move(*name);

    BNode pl = info.find("piece length");
    if (!pl) return make_error("info has no 'piece length'");
    if (!pl.is_int()) return make_error("piece length is not an integer", pl.offset());
    if (pl.int_value() <= 0)
        return make_error("piece length " + std::to_string(pl.int_value()) + " is not positive", pl.offset());
    if (pl.int_value() > lim.max_piece_length)
        return make_error("piece length " + std::to_string(pl.int_value()) + " exceeds the limit of " +
                              std::to_string(lim.max_piece_length),
                          pl.offset());
    m.piece_length = pl.int_value();

    if (auto st = parse_files(info, m, lim); !st) return st.error();
    if (m.total_length == 0) return make_error("torrent has a total length of 0");

    BNode pc = info.find("pieces");
    if (!pc) return make_error("info has no 'pieces'");
    if (!pc.is_string()) return make_error("info.pieces is not a string", pc.offset());
    const size_t plen = pc.string().size();
    if (plen % 20 != 0)
        return make_error("pieces length " + std::to_string(plen) + " is not a multiple of 20", pc.offset());
    // total_length > 0 and piece_length > 0, so this cannot overflow.
    const int64_t want = (m.total_length - 1) / m.piece_length + 1;
    if (int64_t(plen / 20) != want)
        return make_error("pieces holds " + std::to_string(plen / 20) + " hashes but " +
                              std::to_string(m.total_length) + " bytes at piece length " +
                              std::to_string(m.piece_length) + " need " + std::to_string(want),
                          pc.offset());
    m.pieces.assign(pc.string());

    BNode priv = info.find_int("private");
    m.is_private = priv && priv.int_value() == 1;

    parse_trackers(root, m);
    warn_unsupported_sources(m);
    m.comment = opt_string(root, "comment");
    m.created_by = opt_string(root, "created by");
    if (BNode cd = root.find_int("creation date")) m.creation_date = cd.int_value();
    return m;
}

Result<Metainfo> load_metainfo_file(const std::string& path, const MetainfoLimits& lim) {
    // A magnet link (or a .magnet file) given where a .torrent is expected
    // (programs that take magnets check first): say what it is, not "No such
    // file or directory" or a bencode error.
    if (is_magnet_uri(path)) return make_error("a magnet link, not a .torrent file");
    if (path.size() > 7 && path.compare(path.size() - 7, 7, ".magnet") == 0)
        return make_error("a .magnet file (a magnet link), not a .torrent file");
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        return make_error(std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error("not a regular file");
    }
    if (uint64_t(st.st_size) > lim.max_file_size) {
        ::close(fd);
        return make_error("file is " + std::to_string(st.st_size) + " bytes, over the limit of " +
                          std::to_string(lim.max_file_size));
    }
    std::string buf(size_t(st.st_size), '\0');
    size_t got = 0;
    while (got < buf.size()) {
        ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::close(fd);
            return make_error(std::strerror(e));
        }
        if (n == 0) break;  // shrank while reading: parse what we have
        got += size_t(n);
    }
    ::close(fd);
    buf.resize(got);
    return parse_metainfo(buf, lim);
}

}  // namespace btl
