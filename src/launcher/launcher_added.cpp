// Torrents added over RPC: their files in the data dir and their rows; see
// launcher.hpp ("torrents added over RPC").
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "btl/engine/session.hpp"
#include "btl/launcher/launcher.hpp"

namespace btl {

std::string Launcher::added_name(const Sha1Digest& ih) { return "added:" + to_hex(ih) + ".torrent"; }

void Launcher::load_added(const std::string& dir) {
    // At start, before the loop runs: a directory listing of our own files.
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;  // nothing added yet
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        Sha1Digest ih{};
        if (n.size() == 48 && n.compare(40, 8, ".torrent") == 0 && from_hex(n.substr(0, 40), ih)) names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        Sha1Digest ih{};
        (void)from_hex(n.substr(0, 40), ih);
        std::string save_in;
        std::ifstream side(dir + "/" + n.substr(0, 40) + ".dir");
        if (side) std::getline(side, save_in);
        add_file(added_name(ih), dir + "/" + n, save_in, false);
    }
}

void Launcher::add_file(const std::string& name, const std::string& path, const std::string& save_in, bool paused) {
    Entry& e = files_[name];
    e.path = path;
    e.save_in = save_in;
    e.start_paused = paused;
    ++e.gen;
    parse(name);
}

bool Launcher::paused(const Sha1Digest& ih) const {
    Torrent* t = s_.find(ih);
    return t && t->paused();
}

std::string Launcher::file_of(const Sha1Digest& ih) const {
    auto it = owner_.find(ih);
    return it == owner_.end() ? std::string() : it->second;
}

}  // namespace btl
