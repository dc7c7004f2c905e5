// torrent-set's per-file keys (see torrent_set_files.hpp).  Each group of keys keeps
// its rows together; a row parses the value and returns the action.
#include "btl/rpc/torrent_set_files.hpp"

#include <map>
#include <string_view>

namespace btl::rpc {

using nlohmann::json;

namespace {

// Parses `v` for key `k`; "" and an action, or what is wrong.
using KeyParser = std::string (*)(std::string_view k, const json& v, TorrentSetAction& out);

// A list of file indices (Transmission: an empty list means every file).
std::string file_indices(std::string_view key, const json& v, std::vector<uint32_t>& out) {
    if (!v.is_array()) return std::string(key) + " must be a list of file indices";
    for (const auto& x : v) {
        if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > int64_t(UINT32_MAX))
            return std::string(key) + ": " + x.dump() + " is not a file index";
        out.push_back(uint32_t(x.get<int64_t>()));
    }
    return {};
}

std::string files_change(std::string_view key, const json& v, TorrentSetAction& out, FileChange::Kind kind,
                         FilePriority p = FilePriority::normal) {
    FileChange c;
    c.kind = kind;
    c.priority = p;
    std::string why = file_indices(key, v, c.files);
    if (why.empty()) out = [c](RpcBackend& b, const Sha1Digest& ih) { return b.change_files(ih, c); };
    return why;
}

const std::map<std::string_view, KeyParser>& keys() {
    using K = FileChange::Kind;
    static const std::map<std::string_view, KeyParser> kKeys = {
        // ---- per-file choices and sequential download
        {"files-wanted",
         [](std::string_view k, const json& v, TorrentSetAction& out) { return files_change(k, v, out, K::wanted); }},
        {"files-unwanted",
         [](std::string_view k, const json& v, TorrentSetAction& out) { return files_change(k, v, out, K::unwanted); }},
        {"priority-high",
         [](std::string_view k, const json& v, TorrentSetAction& out) {
             return files_change(k, v, out, K::priority, FilePriority::high);
         }},
        {"priority-normal",
         [](std::string_view k, const json& v, TorrentSetAction& out) {
             return files_change(k, v, out, K::priority, FilePriority::normal);
         }},
        {"priority-low",
         [](std::string_view k, const json& v, TorrentSetAction& out) {
             return files_change(k, v, out, K::priority, FilePriority::low);
         }},
        {"sequentialDownload",
         [](std::string_view k, const json& v, TorrentSetAction& out) -> std::string {
             if (!v.is_boolean() && !v.is_number_integer()) return std::string(k) + " must be true or false";
             FileChange c;
             c.kind = K::sequential;
             c.on = v.is_boolean() ? v.get<bool>() : v.get<int64_t>() != 0;
             out = [c](RpcBackend& b, const Sha1Digest& ih) { return b.change_files(ih, c); };
             return {};
         }},
    };
    return kKeys;
}

}  // namespace

std::string parse_file_keys(const json& args, std::vector<TorrentSetAction>& out, std::string& unsupported) {
    for (const auto& [key, value] : args.items()) {
        if (key == "ids") continue;
        auto it = keys().find(key);
        if (it == keys().end()) {
            unsupported += (unsupported.empty() ? "" : ", ") + key;
            continue;
        }
        TorrentSetAction act;
        if (std::string bad = it->second(key, value, act); !bad.empty()) return bad;
        out.push_back(std::move(act));
    }
    return {};
}

}  // namespace btl::rpc
