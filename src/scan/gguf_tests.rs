use super::*;

#[test]
fn excerpts_say_where() {
    let t = "hello {{ cycler.__init__ }}";
    assert_eq!(excerpt(t, 9), "hello {{ cycler.__init__ }}");
    let long = format!("{}{{{{ x.__class__ }}}}{}", "a".repeat(100), "é".repeat(100));
    let e = excerpt(&long, 103);
    assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
}
