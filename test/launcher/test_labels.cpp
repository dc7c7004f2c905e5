#include <doctest/doctest.h>

#include <algorithm>

#include "btl/launcher/labels.hpp"
#include "btl/launcher/launcher.hpp"

using namespace btl;

TEST_CASE("labels: config lines are lifted out, the rest keeps its line numbers") {
    LabelTable t;
    auto rest = take_label_lines(
        "max_uploads = 3\nlabel.movies.save_in = /srv/movies  # films\nlabel.movies.seed_ratio = 2.5\n"
        "label.tv.move-completed-to = /srv/done/tv\n# label.x.save_in = nothing\n",
        "cfg", t);
    REQUIRE(rest.ok());
    CHECK(*rest == "max_uploads = 3\n\n\n\n# label.x.save_in = nothing\n");
    REQUIRE(t.count("movies"));
    CHECK(t["movies"].save_in == "/srv/movies");
    REQUIRE(t["movies"].seed_ratio.has_value());
    CHECK(*t["movies"].seed_ratio == doctest::Approx(2.5));
    CHECK(t["tv"].move_completed_to == "/srv/done/tv");
    CHECK_FALSE(t.count("x"));
}

TEST_CASE("labels: a bad line is one error naming the file, line and what is wrong") {
    LabelTable t;
    auto e1 = take_label_lines("\nlabel.movies.colour = red\n", "cfg", t);
    REQUIRE_FALSE(e1.ok());
    CHECK(e1.error().message == "cfg:2: unknown label setting 'label.movies.colour' (save_in, move_completed_to, seed_ratio)");
    auto e2 = take_label_lines("label.movies.save_in = relative/dir\n", "cfg", t);
    REQUIRE_FALSE(e2.ok());
    CHECK(e2.error().message.find("cfg:1: label.movies.save_in needs an absolute directory") == 0);
    auto e3 = take_label_lines("label.movies.seed_ratio = -1\n", "cfg", t);
    REQUIRE_FALSE(e3.ok());
    CHECK(e3.error().message.find("seed_ratio takes a ratio") != std::string::npos);
    CHECK_FALSE(take_label_lines("label..save_in = /x\n", "cfg", t).ok());
    CHECK_FALSE(take_label_lines("label.movies.save_in\n", "cfg", t).ok());
}

TEST_CASE("labels: names, watched names and look-ups") {
    CHECK(valid_label("movies"));
    CHECK(valid_label("tv.shows"));
    CHECK_FALSE(valid_label(""));
    CHECK_FALSE(valid_label(".hidden"));
    CHECK_FALSE(valid_label("a/b"));
    CHECK_FALSE(valid_label(std::string(65, 'a')));
    CHECK(label_of_watch_name("movies/x.torrent") == "movies");
    CHECK(label_of_watch_name("x.torrent") == "");
    CHECK(watch_leaf_name("movies/x.torrent") == "x.torrent");
    LabelTable t;
    t["movies"].save_in = "/srv/movies";
    t["movies"].seed_ratio = 1.5;
    t["tv"].move_completed_to = "/done/tv";
    CHECK(label_save_in(t, "movies", "/save") == "/srv/movies");
    CHECK(label_save_in(t, "tv", "/save") == "/save/tv");
    CHECK(label_save_in(t, "", "/save") == "/save");
    CHECK(label_move_completed_to(t, "tv", "/done") == "/done/tv");
    CHECK(label_move_completed_to(t, "movies", "/done") == "/done");
    CHECK(label_seed_ratio(t, "movies").value_or(-1) == doctest::Approx(1.5));
    CHECK_FALSE(label_seed_ratio(t, "tv").has_value());
}

TEST_CASE("places: labels, incomplete_dir and move_completed_to decide where data lives and goes") {
    LauncherOptions o;
    o.save_in = "/save";
    o.saveas_style = 4;
    TakenPaths taken;
    Placement p = place_torrent(o, "", "movies/x.torrent", "Film", taken);
    CHECK(p.label == "movies");
    CHECK_FALSE(p.seed_ratio.has_value());
    CHECK(p.save_path == "/save/movies/Film");
    CHECK(p.final_path == "");
    o.labels["movies"].save_in = "/srv/movies";
    o.labels["movies"].seed_ratio = 3.0;
    CHECK(place_torrent(o, "", "movies/x.torrent", "Film", taken).save_path == "/srv/movies/Film");
    CHECK(place_torrent(o, "", "movies/x.torrent", "Film", taken).seed_ratio.value_or(-1) == doctest::Approx(3.0));
    o.incomplete_dir = "/inc";
    p = place_torrent(o, "", "movies/x.torrent", "Film", taken);
    CHECK(p.save_path == "/inc/Film");
    CHECK(p.final_path == "/srv/movies/Film");
    o.move_completed_to = "/done";
    p = place_torrent(o, "", "y.torrent", "Other", taken);
    CHECK(p.label == "");
    CHECK(p.save_path == "/inc/Other");
    CHECK(p.final_path == "/done/Other");
    o.incomplete_dir.clear();
    p = place_torrent(o, "/rpc/dir", "HEX.torrent", "Added", taken);
    CHECK(p.save_path == "/rpc/dir/Added");
    CHECK(p.final_path == "/done/Added");
    auto roots = place_roots(o);
    CHECK(std::find(roots.begin(), roots.end(), "/srv/movies") != roots.end());
    CHECK(std::find(roots.begin(), roots.end(), "/done") != roots.end());
}

TEST_CASE("places: the view's label filter cycles through the labels present") {
    std::vector<Row> rows(3);
    rows[0].st.label = "tv";
    rows[1].st.label = "movies";
    std::vector<const Row*> ptrs{&rows[0], &rows[1], &rows[2]};
    std::string f = next_label_filter(ptrs, "");
    CHECK(f == "movies");
    f = next_label_filter(ptrs, f);
    CHECK(f == "tv");
    f = next_label_filter(ptrs, f);
    CHECK(f == kNoLabel);
    CHECK(label_matches(rows[2], f));
    CHECK_FALSE(label_matches(rows[0], f));
    CHECK(next_label_filter(ptrs, f) == "");
    CHECK(label_filter_text("tv") == "  label tv");
    std::vector<Row> sorted = rows;
    sorted[0].st.name = "b";
    sorted[1].st.name = "a";
    sort_rows(sorted, SortKey::label);
    CHECK(sorted[0].st.label == "movies");
    CHECK(sorted[1].st.label == "tv");
    CHECK(sorted[2].st.label == "");
}
