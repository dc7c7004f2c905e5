#include "btl/disk/make_torrent.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "btl/base/sha1.hpp"
#include "btl/core/bencode.hpp"
#include "btl/core/metainfo.hpp"

namespace btl {

namespace fs = std::filesystem;

// ---- collecting files --------------------------------------------------------

namespace {

std::string root_name(const std::string& path) {
    fs::path p = fs::path(path).lexically_normal();
    std::string name = p.filename().string();
    if (name.empty()) name = p.parent_path().filename().string();  // "dir/" normalises to "dir/"
    if (name.empty() || name == "." || name == "..") {
        std::error_code ec;
        fs::path c = fs::canonical(path, ec);
        if (!ec) name = c.filename().string();
    }
    return name;
}

std::string join_rel(const std::vector<std::string>& e) {
    std::string s;
    for (size_t i = 0; i < e.size(); ++i) {
        if (i) s += '/';
        s += e[i];
    }
    return s;
}

}  // namespace

Result<SourceTree> collect_sources(const std::string& path) {
    SourceTree t;
    t.name = root_name(path);
    if (t.name.empty()) return make_error("cannot derive a torrent name from '" + path + "'");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return make_error(path + ": " + std::strerror(errno));
    if (S_ISREG(st.st_mode)) {
        t.files.push_back(SourceFile{path, {t.name}, int64_t(st.st_size)});
        t.total_length = st.st_size;
    } else if (S_ISDIR(st.st_mode)) {
        t.multi_file = true;
        std::error_code ec;
        fs::recursive_directory_iterator it(path, fs::directory_options::none, ec), end;
        if (ec) return make_error(path + ": " + ec.message());
        std::vector<std::pair<std::string, SourceFile>> found;
        for (; it != end; it.increment(ec)) {
            if (ec) return make_error(path + ": " + ec.message());
            // symlink_status: symlinks are skipped, never followed (the
            // directory iterator does not follow them into directories either).
            fs::file_status s = it->symlink_status(ec);
            if (ec) return make_error(it->path().string() + ": " + ec.message());
            if (!fs::is_regular_file(s)) continue;
            SourceFile f;
            f.fs_path = it->path().string();
            for (const auto& el : it->path().lexically_relative(path)) f.rel_path.push_back(el.string());
            auto size = it->file_size(ec);
            if (ec) return make_error(f.fs_path + ": " + ec.message());
            f.length = int64_t(size);
            std::string key = join_rel(f.rel_path);
            found.emplace_back(std::move(key), std::move(f));
        }
        if (ec) return make_error(path + ": " + ec.message());
        // Byte order of the joined path: what mktorrent does (strcmp).
        std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& [k, f] : found) {
            if (__builtin_add_overflow(t.total_length, f.length, &t.total_length))
                return make_error("total size overflows 64 bits");
            t.files.push_back(std::move(f));
        }
        if (t.files.empty()) return make_error(path + ": no files to put in a torrent");
    } else {
        return make_error(path + ": not a regular file or directory");
    }
    if (t.total_length == 0) return make_error(path + ": total size is 0; nothing to hash");
    return t;
}

int auto_piece_pow2(int64_t total_length) {
    int p = 14;
    while (p < 24 && (total_length + (int64_t(1) << p) - 1) >> p > 2000) ++p;
    return p;
}

// ---- hashing ---------------------------------------------------------------

namespace {

constexpr size_t kReadSize = size_t(128) << 10;  // one pread: small enough to stay in L2 until hashed
constexpr int64_t kChunkBytes = int64_t(32) << 20;  // work unit claimed by a worker

struct HashJob {
    HashJob(const SourceTree& t, int64_t pl, uint64_t np, std::string& o)
        : tree(t), piece_length(pl), num_pieces(np), out(o) {}
    const SourceTree& tree;
    int64_t piece_length;
    uint64_t num_pieces;
    uint64_t pieces_per_chunk = 0;
    uint64_t num_chunks = 0;
    std::vector<int64_t> file_start;  // offset of each file in the stream
    std::string& out;

    std::atomic<uint64_t> next_chunk{0};
    std::atomic<int64_t> done_bytes{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::condition_variable cv;
    unsigned running = 0;
    std::string error;

    void fail(std::string why) {
        std::lock_guard<std::mutex> lk(mu);
        if (!failed.exchange(true)) error = std::move(why);
    }
};

class FileReader {
public:
    ~FileReader() { close_fd(); }
    // pread from file `idx`, opening it first if needed.
    ssize_t read(HashJob& job, size_t idx, char* buf, size_t len, int64_t off, std::string& err) {
        if (idx != idx_) {
            close_fd();
            const auto& f = job.tree.files[idx];
            fd_ = ::open(f.fs_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd_ < 0) {
                err = f.fs_path + ": " + std::strerror(errno);
                return -1;
            }
            idx_ = idx;
            ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
        }
        for (;;) {
            ssize_t n = ::pread(fd_, buf, len, off);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) err = job.tree.files[idx].fs_path + ": " + std::strerror(errno);
            if (n == 0) err = job.tree.files[idx].fs_path + ": file shrank while hashing";
            return n;
        }
    }

private:
    void close_fd() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        idx_ = SIZE_MAX;
    }
    int fd_ = -1;
    size_t idx_ = SIZE_MAX;
};

// Hashes pieces [p0, p1): one sequential pass over their bytes.
bool hash_range(HashJob& job, uint64_t p0, uint64_t p1, char* buf, FileReader& rd, Sha1Hasher& h) {
    const int64_t total = job.tree.total_length;
    int64_t pos = int64_t(p0) * job.piece_length;
    const int64_t stop = std::min(total, int64_t(p1) * job.piece_length);
    uint64_t piece = p0;
    int64_t piece_end = std::min(total, pos + job.piece_length);
    // The file holding `pos`: the last file starting at or before it with
    // bytes left (zero-length files are stepped over).
    size_t fi = size_t(std::upper_bound(job.file_start.begin(), job.file_start.end(), pos) -
                       job.file_start.begin()) - 1;
    while (pos < stop) {
        if (job.failed.load(std::memory_order_relaxed)) return false;
        while (job.file_start[fi] + job.tree.files[fi].length <= pos) ++fi;
        const int64_t in_file = pos - job.file_start[fi];
        size_t want = size_t(std::min<int64_t>(int64_t(kReadSize), std::min(stop, job.file_start[fi] + job.tree.files[fi].length) - pos));
        std::string err;
        ssize_t n = rd.read(job, fi, buf, want, in_file, err);
        if (n <= 0) {
            job.fail(err);
            return false;
        }
        // Feed the bytes, closing a piece at every boundary inside them.
        const char* p = buf;
        int64_t left = n;
        while (left > 0) {
            int64_t take = std::min(left, piece_end - pos);
            h.update(p, size_t(take));
            p += take;
            left -= take;
            pos += take;
            if (pos == piece_end) {
                Sha1Digest d = h.finish();
                std::memcpy(job.out.data() + piece * 20, d.data(), 20);
                ++piece;
                piece_end = std::min(total, pos + job.piece_length);
            }
        }
        job.done_bytes.fetch_add(n, std::memory_order_relaxed);
    }
    return true;
}

void worker(HashJob& job) {
    std::unique_ptr<char[]> buf(new char[kReadSize]);
    FileReader rd;
    Sha1Hasher h;
    for (;;) {
        uint64_t c = job.next_chunk.fetch_add(1);
        if (c >= job.num_chunks || job.failed.load()) break;
        uint64_t p0 = c * job.pieces_per_chunk;
        uint64_t p1 = std::min(job.num_pieces, p0 + job.pieces_per_chunk);
        if (!hash_range(job, p0, p1, buf.get(), rd, h)) break;
    }
    std::lock_guard<std::mutex> lk(job.mu);
    --job.running;
    job.cv.notify_all();
}

}  // namespace

Result<std::string> hash_pieces(const SourceTree& tree, int64_t piece_length, unsigned threads,
                                const ProgressFn& progress) {
    if (piece_length <= 0) return make_error("piece length must be positive");
    if (tree.total_length <= 0) return make_error("nothing to hash");
    std::string out;
    const uint64_t num_pieces = uint64_t((tree.total_length - 1) / piece_length + 1);
    out.resize(num_pieces * 20);
    HashJob job(tree, piece_length, num_pieces, out);
    job.pieces_per_chunk = uint64_t(std::max<int64_t>(1, kChunkBytes / piece_length));
    job.num_chunks = (num_pieces + job.pieces_per_chunk - 1) / job.pieces_per_chunk;
    int64_t off = 0;
    for (const auto& f : tree.files) {
        job.file_start.push_back(off);
        off += f.length;
    }
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    threads = unsigned(std::min<uint64_t>(threads, job.num_chunks));
    job.running = threads;
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; ++i) pool.emplace_back(worker, std::ref(job));
    {
        std::unique_lock<std::mutex> lk(job.mu);
        while (job.running > 0) {
            job.cv.wait_for(lk, std::chrono::milliseconds(200));
            if (progress) {
                lk.unlock();
                progress(job.done_bytes.load(), tree.total_length);
                lk.lock();
            }
        }
    }
    for (auto& t : pool) t.join();
    if (job.failed) return make_error(job.error);
    // Fast runs may finish before the first poll; always report the end.
    if (progress) progress(tree.total_length, tree.total_length);
    return out;
}

// ---- the document ------------------------------------------------------------

std::vector<std::vector<std::string>> parse_announce_list(const std::string& spec) {
    std::vector<std::vector<std::string>> tiers;
    size_t i = 0;
    while (i <= spec.size()) {
        size_t bar = spec.find('|', i);
        if (bar == std::string::npos) bar = spec.size();
        std::string tier = spec.substr(i, bar - i);
        std::vector<std::string> urls;
        size_t j = 0;
        while (j <= tier.size()) {
            size_t comma = tier.find(',', j);
            if (comma == std::string::npos) comma = tier.size();
            if (comma > j) urls.push_back(tier.substr(j, comma - j));
            j = comma + 1;
        }
        if (!urls.empty()) tiers.push_back(std::move(urls));
        i = bar + 1;
    }
    return tiers;
}

Result<std::string> make_torrent(const std::string& path, const MakeTorrentOptions& opt) {
    auto tree = collect_sources(path);
    if (!tree) return tree.error();
    int pow2 = opt.piece_size_pow2 ? opt.piece_size_pow2 : auto_piece_pow2(tree->total_length);
    if (pow2 < 14 || pow2 > 28) return make_error("piece size 2^" + std::to_string(pow2) + " is outside 2^14..2^28");
    const int64_t piece_length = int64_t(1) << pow2;
    auto pieces = hash_pieces(*tree, piece_length, opt.threads, opt.progress);
    if (!pieces) return pieces.error();

    BValue info = BValue::dict();
    info["name"] = tree->name;
    info["piece length"] = piece_length;
    info["pieces"] = std::move(*pieces);
    if (opt.is_private) info["private"] = 1;
    if (tree->multi_file) {
        BValue files = BValue::list();
        for (const auto& f : tree->files) {
            BValue fd = BValue::dict();
            fd["length"] = f.length;
            BValue p = BValue::list();
            for (const auto& el : f.rel_path) p.as_list().emplace_back(el);
            fd["path"] = std::move(p);
            files.as_list().push_back(std::move(fd));
        }
        info["files"] = std::move(files);
    } else {
        info["length"] = tree->total_length;
    }

    BValue root = BValue::dict();
    root["announce"] = opt.announce;
    if (!opt.announce_list.empty()) {
        BValue tiers = BValue::list();
        for (const auto& tier : opt.announce_list) {
            BValue t = BValue::list();
            for (const auto& u : tier) t.as_list().emplace_back(u);
            tiers.as_list().push_back(std::move(t));
        }
        root["announce-list"] = std::move(tiers);
    }
    if (!opt.comment.empty()) root["comment"] = opt.comment;
    if (!opt.created_by.empty()) root["created by"] = opt.created_by;
    if (!opt.no_date) root["creation date"] = opt.creation_date ? opt.creation_date : int64_t(std::time(nullptr));
    root["info"] = std::move(info);
    std::string doc = encode(root);

    // Never write a torrent our own parser (and so our own client) refuses,
    // e.g. a file name holding a backslash or a control character.
    auto check = parse_metainfo(doc);
    if (!check) return make_error("the torrent would be invalid: " + check.error().message);
    return doc;
}

}  // namespace btl
