use super::*;

fn worst(t: &str) -> Option<Severity> {
    scan_template(t).iter().map(|h| h.severity).max()
}

/// The ChatML template most GGUF files ship (Qwen, many fine-tunes), with `namespace` used as usual.
const CHATML: &str = "{%- set ns = namespace(found=false) -%}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

#[test]
fn plain_templates_are_safe() {
    assert_eq!(scan_template(CHATML), []);
    assert_eq!(
        scan_template("{{ bos_token }}{% for m in messages %}{{ m.content | trim }}{% endfor %}"),
        []
    );
}

#[test]
fn ssti_payloads_are_dangerous() {
    for t in [
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ self.__init__.__globals__.__builtins__.__import__('os') }}",
        "{{ lipsum.__globals__['os'].popen('id') }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ x|attr('__class__') }}",
        "{{ x | attr(\"a\") }}",
        "{{ x|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
        "{{ x['\\x5f\\x5fglobals\\x5f\\x5f'] }}",
        "{{ x['__cla' ~ 'ss__'] }}",
        "{{ x['_'*2 ~ 'class' ~ '_'*2] }}",
        "{% set c = '__cl' + 'ass__' %}{{ x[c] }}",
        "{{ lipsum['__globals__'] }}",
        "{{ self._TemplateReference__context }}",
        "{{ x['__reduce_ex__'] }}",
    ] {
        assert_eq!(worst(t), Some(Severity::Dangerous), "{t}");
    }
}

#[test]
fn other_templates_are_suspicious() {
    assert_eq!(worst("{% include 'other.j2' %}"), Some(Severity::Suspicious));
    assert_eq!(worst("{{ lipsum(2) }}"), Some(Severity::Suspicious));
}

#[test]
fn findings_say_where_and_why() {
    let t = "hello {{ cycler.__init__ }}";
    let hits = scan_template(t);
    assert_eq!(hits[0].offset, 9);
    assert!(hits[0].why.contains("cycler"), "{:?}", hits);
    assert!(hits.iter().any(|h| h.why.contains("__init__")));
    assert_eq!(excerpt(t, 9), "hello {{ cycler.__init__ }}");
    let long = format!("{}{{{{ x.__class__ }}}}{}", "a".repeat(100), "é".repeat(100));
    let e = excerpt(&long, 103);
    assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
}
