use super::*;

fn worst(t: &str) -> Option<Severity> {
    check(t).iter().map(|h| h.severity).max()
}

/// The ChatML template most GGUF files ship (Qwen, many fine-tunes), with `namespace` used as usual.
const CHATML: &str = "{%- set ns = namespace(found=false) -%}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

#[test]
fn plain_templates_are_safe() {
    for t in [
        CHATML,
        "{{ bos_token }}{% for m in messages %}{{ m.content | trim }}{% endfor %}",
        "{% for m in messages[::-1] %}{% set ns.x = m.content.split('</think>')[-1].lstrip('\\n') %}{% endfor %}",
        "{% for i in range(messages|length - 1, -1, -1) %}{{ messages[i]['content'] }}{% endfor %}",
        "{% for k, v in tool.items() %}{{ tool[k] | tojson }}{% endfor %}{{ '%s: %d'|format('a', 3) }}",
        "{% macro render(x, depth=0) %}{{ '  ' * depth }}{{ x }}{% endmacro %}{{ render(messages[0]) }}",
        "{% generation %}{{ m.content }}{% endgeneration %}",
        "{{ '{} says {}'.format(m.role, m.content) }}{{ messages|map(attribute='content')|join('\\n') }}",
    ] {
        assert_eq!(check(t), [], "{t}");
    }
}

#[test]
fn written_out_escapes_are_dangerous() {
    for t in [
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ self.__init__.__globals__.__builtins__.__import__('os') }}",
        "{{ lipsum.__globals__['os'].popen('id') }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ x|attr('__class__') }}",
        "{{ x|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
        "{{ x['\\x5f\\x5fglobals\\x5f\\x5f'] }}",
        "{{ x['__cla' ~ 'ss__'] }}",
        "{{ x['_'*2 ~ 'class' ~ '_'*2] }}",
        "{% set c = '__cl' + 'ass__' %}{{ x[c] }}",
        "{{ lipsum['__globals__'] }}",
        "{{ self._TemplateReference__context }}",
        "{{ x['__reduce_ex__'] }}",
        "{{ x.mro() }}",
        "{{ messages|map(attribute='__class__')|list }}",
        "{{ '{0.__class__}'.format(x) }}",
        "{{ message.content.format(x) }}",
    ] {
        assert_eq!(worst(t), Some(Severity::Dangerous), "{t}");
    }
}

#[test]
fn names_built_at_render_time_are_dangerous() {
    for t in [
        "{% set u = '_' %}{{ x[u ~ u ~ 'init' ~ u ~ u] }}",
        "{% set d = '%c%c'|format(95, 95) %}{{ x[d ~ 'class' ~ d] }}",
        "{% set d = ['_', '_']|join %}{{ x[d ~ 'class' ~ d] }}",
        "{% set c = cycler %}{{ c }}",
        "{% set n = 'xxinitxx'|replace('x', '_') %}{{ y[n] }}",
        "{% set d = '{0}{0}'.format('_') %}{{ x[d ~ 'class' ~ d] }}",
        "{% set t = {'a': '_' ~ '_'} %}{{ x[t['a'] ~ 'class' ~ t['a']] }}",
        "{% for w in ['__class__'] %}{{ x[w] }}{% endfor %}",
        "{% set ns = namespace(p='') %}{% set ns.p = '_' * 2 %}{{ x[ns.p ~ 'class' ~ ns.p] }}",
        "{% macro d() %}__class__{% endmacro %}{{ x[d()] }}",
        "{% set s %}__class__{% endset %}{{ x[s|trim] }}",
        "{{ x[y|format(1)] }}",
        // a use before the set that gives it its value (the loop comes back)
        "{% for i in range(2) %}{% if i %}{{ x[k] }}{% endif %}{% set k = '_' ~ '_class__' %}{% endfor %}",
    ] {
        assert_eq!(worst(t), Some(Severity::Dangerous), "{t}");
    }
}

#[test]
fn other_constructs_are_suspicious() {
    for t in [
        "{% include 'other.j2' %}",
        "{{ lipsum(2) }}",
        "{{ x|attr('content') }}",
        "{{ x[m.role ~ 'x'] }}",
        "{{ x|shell }}",
        "{{ x.decode() }}",
        "{{ self }}",
        "{{ 'A' * 4000000000 }}",
        "{% set n = 40000 %}{{ ('A' * n) * n }}",
        "{{ ([1] * 1000000000)|length }}",
        "{% for i in range(1000000) %}{% endfor %}",
        "{% for i in range(9999) %}{% for j in range(9999) %}x{% endfor %}{% endfor %}",
        "{{ 9 ** 99999999 }}",
        "{{ 'x'|center(999999999) }}",
        "{{ '%999999999s'|format(1) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{% if x %}",
        "{% frobnicate %}",
    ] {
        assert_eq!(worst(t), Some(Severity::Suspicious), "{t}");
    }
}

#[test]
fn limits_are_named_and_hold() {
    let big = format!("{{{{ x }}}}{}", " ".repeat(MAX_TEMPLATE_BYTES));
    let h = check(&big);
    assert!(h[0].why.contains("limit"), "{h:?}");
    // a postfix chain parses by a loop: without the token limit its tree would be this deep
    let deep = format!("{{{{ x{} }}}}", ".a".repeat(200_000));
    let h = check(&deep);
    assert_eq!(h.len(), 1);
    assert!(h[0].why.contains(&MAX_EXPR_TOKENS.to_string()), "{h:?}");
    // just under the limit: parsed and walked
    let ok = format!("{{{{ x{} }}}}", ".a".repeat(MAX_EXPR_TOKENS / 2 - 2));
    assert_eq!(check(&ok), []);
    // nested brackets stop at the parser's own depth limit
    let nested = format!("{{{{ {}1{} }}}}", "(".repeat(1000), ")".repeat(1000));
    assert_eq!(worst(&nested), Some(Severity::Suspicious));
}

#[test]
fn findings_say_where_and_why() {
    let t = "hello {{ cycler.__init__ }}";
    let hits = check(t);
    assert_eq!(hits[0].offset, 9);
    assert!(hits[0].why.contains("cycler"), "{hits:?}");
    assert!(hits.iter().any(|h| h.why.contains("__init__")), "{hits:?}");
}

#[test]
fn slices_of_data_stay_data() {
    let t = "{% for m in messages[::-1] %}{% for k in m.args %}{{ m.args[k] }}{% endfor %}{% endfor %}";
    assert_eq!(check(t), []);
    assert_eq!(
        worst("{% set s = 'a__class__'[1:] %}{{ x[s] }}"),
        Some(Severity::Dangerous)
    );
}

#[test]
fn more_routes_are_caught() {
    for (t, want) in [
        ("{{ x|map('attr', '__class__')|list }}", Severity::Dangerous),
        ("{{ x|tojson(indent=999999999) }}", Severity::Suspicious),
        ("{{ x|indent(width=999999999) }}", Severity::Suspicious),
        // a value that keeps growing around a loop still settles, and is judged
        (
            "{% for i in range(9) %}{% set s = s ~ '_' %}{% endfor %}{{ x[s ~ 'class'] }}",
            Severity::Dangerous,
        ),
    ] {
        assert_eq!(worst(t), Some(want), "{t}");
    }
    // a percent sign in text is not a width
    assert_eq!(check("{{ '100% 20000 tokens: %s'|format(x) }}"), []);
}

#[test]
fn an_opening_and_closing_tag_that_overlap_never_panic() {
    // `{%}` holds `{%` and `%}` overlapping: the tag scan once sliced backwards there
    for t in ["{%}", "x{%}y", "{%}{% generation %}a{% endgeneration %}", "{%}%}"] {
        let _ = super::check(t);
    }
}

#[test]
fn string_literals_are_decoded_as_jinja2_decodes_them() {
    // Python's unicode-escape: every form of `_` minijinja keeps as text or reads otherwise
    for t in [
        r#"{{ ""["\U0000005f\U0000005fclass\U0000005f\U0000005f"] }}"#,
        r#"{{ x["\N{LOW LINE}\N{low line}class__"] }}"#,
        r#"{{ x['\137\137class\137\137'] }}"#,
        r#"{{ x['\u005f\x5f\N{LOW LINE}init__'] }}"#,
        "{{ x['_\\\n_class__'] }}",
        "{{ x['_\\\r\n_class__'] }}",
        r#"{{ x|attr("\U0000005f_globals__") }}"#,
        r#"{{ x['m\N{LATIN SMALL LETTER R}o'] }}"#,
        r#"{% set a = "\U0000005f" %}{{ x[a ~ a ~ 'class' ~ a ~ a] }}"#,
    ] {
        assert_eq!(worst(t), Some(Severity::Dangerous), "{t}");
    }
    // decoded values that are harmless stay safe: a fullwidth low line is not `_` to getattr
    for t in [
        r#"{{ '\N{FULLWIDTH LOW LINE}x' ~ m.content }}"#,
        r#"{{ 'a\/b\q\a\v\x41\777' ~ m.content }}"#,
        "{{ '\\é' ~ m.content }}",
        r#"{{ "it's \"quoted\" \\ here" }}"#,
    ] {
        assert_eq!(check(t), [], "{t}");
    }
    // a name the check cannot resolve is never safe
    let h = check(r#"{{ x['\N{CJK UNIFIED IDEOGRAPH-4E00}'] }}"#);
    assert!(h.iter().any(|h| h.why.contains("\\N{")), "{h:?}");
    // what Jinja2 rejects is suspicious, at the literal
    for t in [r#"{{ '\x5' }}"#, r#"{{ '\N{NO SUCH NAME' }}"#, r#"{{ '\U00110000' }}"#] {
        assert_eq!(worst(t), Some(Severity::Suspicious), "{t}");
    }
}

#[test]
fn decoded_literals_keep_offsets_true() {
    // the literal before the finding shrinks when decoded; the finding is still where it was
    let t = r#"{{ '\U00000041\U00000042' }}{{ cycler.__init__ }}"#;
    let h = check(t);
    assert_eq!(h[0].offset, t.find("cycler").unwrap(), "{h:?}");
    let t = r#"{{ x['\U0000005f\U0000005fclass__'] }}"#;
    let h = check(t);
    assert!(h.iter().all(|h| h.offset < t.len()), "{h:?}");
    assert_eq!(h.iter().map(|h| h.severity).max(), Some(Severity::Dangerous));
}

#[test]
fn python_whitespace_inside_tags_is_read_as_jinja2_reads_it() {
    let payload = "{{ ''.__class__.__mro__[1].__subclasses__() }}";
    for space in ['\u{a0}', '\x0b', '\x1c', '\x1f', '\u{85}', '\u{2003}', '\u{3000}'] {
        // a raw block that Jinja2 ends at an endraw spelled with that whitespace
        for end in [
            format!("{{%{space}endraw %}}"),
            format!("{{%-{space}endraw{space}-%}}"),
            format!("{{%+ endraw{space}+%}}"),
        ] {
            let t = format!("{{% raw %}}x{end}{payload}{{% raw %}}{{% endraw %}}");
            assert_eq!(worst(&t), Some(Severity::Dangerous), "{t:?}");
        }
        // a raw block Jinja2 opens with it: what is inside stays text (suspicious for the space)
        let t = format!("{{%{space}raw{space}%}}{{{{ x.__class__ }}}}{{% endraw %}}");
        let h = check(&t);
        assert_eq!(h.len(), 1, "{t:?} {h:?}");
        assert!(h[0].why.contains("U+"), "{h:?}");
        // inside an ordinary tag and an expression: judged, and suspicious on its own
        let t = format!("{{%{space}if{space}m{space}%}}{{{{{space}m.content{space}}}}}{{%{space}endif{space}%}}");
        assert_eq!(worst(&t), Some(Severity::Suspicious), "{t:?}");
        let t = format!("{{{{{space}x.__globals__{space}}}}}");
        assert_eq!(worst(&t), Some(Severity::Dangerous), "{t:?}");
    }
    // inside strings and text it is data
    assert_eq!(check("\u{a0}{{ 'a\u{a0}b' ~ m.content }}\u{a0}{# \u{a0} #}"), []);
}
