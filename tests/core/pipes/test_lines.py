from catchment.pipes.lines import LineSplitter, Oversized


def test_lines_split_across_chunks_and_keep_order():
    s = LineSplitter(100)
    assert s.feed(b"ab") == []
    assert s.feed(b"c\nde\nf") == [b"abc", b"de"]
    assert s.flush() == [b"f"]
    assert s.flush() == []


def test_an_oversized_line_is_dropped_and_the_next_lines_survive():
    s = LineSplitter(10)
    out = s.feed(b"ok\n" + b"x" * 25)
    out += s.feed(b"y" * 30 + b"\nafter\n")
    assert out[0] == b"ok"
    assert isinstance(out[1], Oversized)
    assert out[1].size == 55
    assert out[1].head.startswith(b"xxxx")
    assert out[2] == b"after"


def test_an_oversized_line_inside_one_chunk_is_reported_with_its_size():
    s = LineSplitter(4)
    out = s.feed(b"123456\n12\n")
    assert out == [Oversized(6, b"123456"), b"12"]


def test_an_unterminated_oversized_tail_is_reported_at_flush():
    s = LineSplitter(4)
    assert s.feed(b"1234567") == []
    assert s.flush() == [Oversized(7, b"1234567")]
