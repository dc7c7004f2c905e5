// Bencode decoder: any input either fails cleanly or decodes to a tree whose
// re-encoding decodes to the same tree; canonical input re-encodes to itself.
#include <string>
#include <string_view>

#include "btl/core/bencode.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

// Walks the tree checking the views agree; returns false if some dictionary
// has keys out of order (then re-encoding sorts them and differs from input).
bool walk(BNode n, std::string_view buf, int depth) {
    BTL_FUZZ_CHECK(depth <= 100);
    std::string_view raw = n.raw();
    BTL_FUZZ_CHECK(raw.data() >= buf.data() && raw.data() + raw.size() <= buf.data() + buf.size());
    BTL_FUZZ_CHECK(size_t(raw.data() - buf.data()) == n.offset());
    bool sorted = true;
    switch (n.type()) {
        case BType::integer: BTL_FUZZ_CHECK(raw.front() == 'i' && raw.back() == 'e'); break;
        case BType::string: {
            std::string_view s = n.string();
            BTL_FUZZ_CHECK(s.data() + s.size() == raw.data() + raw.size());
            BTL_FUZZ_CHECK(raw.size() > s.size() && raw[raw.size() - s.size() - 1] == ':');
            break;
        }
        case BType::list: {
            size_t count = 0;
            for (BNode e : n.list_items()) {
                sorted &= walk(e, buf, depth + 1);
                BTL_FUZZ_CHECK(n.at(count).raw().data() == e.raw().data());
                ++count;
            }
            BTL_FUZZ_CHECK(count == n.size());
            BTL_FUZZ_CHECK(!n.at(count));
            break;
        }
        case BType::dict: {
            size_t count = 0;
            std::string_view prev;
            for (auto [k, v] : n.dict_items()) {
                if (count > 0 && !(prev < k)) sorted = false;
                prev = k;
                sorted &= walk(v, buf, depth + 1);
                // Keys are unique, so lookup finds this very value.
                BTL_FUZZ_CHECK(n.find(k).raw().data() == v.raw().data());
                ++count;
            }
            BTL_FUZZ_CHECK(count == n.size());
            break;
        }
        case BType::none: BTL_FUZZ_CHECK(false); break;
    }
    return sorted;
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_bencode) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto doc = decode(in);
    size_t used = 0;
    auto pre = decode_prefix(in, used);
    if (doc.ok()) {
        BTL_FUZZ_CHECK(pre.ok() && used == size);
    }
    if (pre.ok()) {
        BTL_FUZZ_CHECK(used >= 1 && used <= size);
        BTL_FUZZ_CHECK(pre->root().raw() == in.substr(0, used));
        BTL_FUZZ_CHECK(decode(in.substr(0, used)).ok());
    }
    if (!doc.ok()) {
        BTL_FUZZ_CHECK(!doc.error().message.empty());
        return 0;
    }
    BNode root = doc->root();
    BTL_FUZZ_CHECK(root.raw() == in);
    bool canonical = walk(root, in, 0);

    std::string again = encode(to_value(root));
    if (canonical) BTL_FUZZ_CHECK(again == in);
    auto doc2 = decode(again);
    BTL_FUZZ_CHECK(doc2.ok());
    BTL_FUZZ_CHECK(walk(doc2->root(), again, 0));
    BTL_FUZZ_CHECK(encode(to_value(doc2->root())) == again);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_bencode)
