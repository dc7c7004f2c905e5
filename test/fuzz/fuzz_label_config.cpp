// Label lines of the config file: any text either fails with one message
// naming origin:line or yields labels with valid names and absolute
// directories, and the rest keeps every line (the same line count).
#include <algorithm>
#include <string>

#include "btl/launcher/labels.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_label_config) {
    std::string text(reinterpret_cast<const char*>(data), size);
    LabelTable labels;
    auto rest = take_label_lines(text, "cfg", labels);
    if (!rest) {
        BTL_FUZZ_CHECK(rest.error().message.rfind("cfg:", 0) == 0);
        return 0;
    }
    size_t lines_in = size_t(std::count(text.begin(), text.end(), '\n')) + (text.empty() || text.back() == '\n' ? 0 : 1);
    BTL_FUZZ_CHECK(size_t(std::count(rest->begin(), rest->end(), '\n')) == lines_in);
    for (const auto& [name, cfg] : labels) {
        BTL_FUZZ_CHECK(valid_label(name));
        BTL_FUZZ_CHECK(cfg.save_in.empty() || cfg.save_in[0] == '/');
        BTL_FUZZ_CHECK(cfg.move_completed_to.empty() || cfg.move_completed_to[0] == '/');
        BTL_FUZZ_CHECK(!cfg.seed_ratio || (*cfg.seed_ratio >= 0 && *cfg.seed_ratio <= 1e6));
        BTL_FUZZ_CHECK(label_save_in(labels, name, "/s").size() > 1);
    }
    return 0;
}
BTL_FUZZ_ENTRY(fuzz_label_config)

}  // namespace btl::fuzz
