"""Go text/template as flux-operator runs it: a table of template -> output (or error).

Sources named in the rows: "Go" is the text/template package documentation
(pkg.go.dev/text/template) and its exec.go/funcs.go; "sprig" is slim-sprig's
functions.go (github.com/go-task/slim-sprig) and the function docs at
go-task.github.io/slim-sprig; "flux" is flux-operator's internal/builder/resourceset.go
(newTemplate) and docs/api/v1/resourceset.md.
"""

from __future__ import annotations

import pytest

from gitlint_flux import gotemplate as gt

FUNCS = {**gt.SPRIG_FUNCS, **gt.FLUX_FUNCS}


def run(text, data=gt.NOVALUE, missingkey="default", limits=gt.Limits()):
    return gt.render(text, data, delims=("<<", ">>"), funcs=FUNCS, missingkey=missingkey, limits=limits)


OUTPUT_ROWS = [
    # Go: "Actions ... are delimited by {{ and }}" - Delims changes them; flux sets << >>
    ("a << 1 >> b", None, "a 1 b"),
    # Go: "{{- " trims all trailing white space of the preceding text, " -}}" the leading of the next
    ("a  \n <<- 1 ->> \n b", None, "a1b"),
    # Go: comments "{{/* a comment */}}", with trim markers "{{- /* ... */ -}}"
    ("x <<- /* note */ ->> y", None, "xy"),
    ("<</* c */>>z", None, "z"),
    # Go: a field of a map is its key; a chain .a.b walks nested maps
    ("<< .x.y >>", {"x": {"y": "v"}}, "v"),
    # Go: a missing key prints <no value> with the default missingkey option
    ("<< .x.z >>", {"x": {}}, "<no value>"),
    # Go: missingkey=zero gives the zero value, which for interface{} also prints <no value>
    ("<< .z >>", {}, "<no value>"),
    # Go: $ is the data passed to Execute
    ("<< range .l >><< $.p >><< . >><< end >>", {"p": "-", "l": ["a", "b"]}, "-a-b"),
    # Go: variables: $x := declares, $x = assigns
    ("<< $x := 3 >><< $x >><< $x = 4 >><< $x >>", None, "34"),
    # Go: a variable's scope extends to the end of the control structure it is declared in
    ("<< $x := 1 >><< if true >><< $x := 2 >><< $x >><< end >><< $x >>", None, "21"),
    # Go: assignment inside a range changes the outer variable
    ("<< $n := 0 >><< range .l >><< $n = . >><< end >><< $n >>", {"l": [1, 2]}, "2"),
    # Go: if / else if / else; the empty values are false
    ("<< if .a >>a<< else if .b >>b<< else >>c<< end >>", {"a": 0, "b": "x"}, "b"),
    ("<< if .a >>a<< else if .b >>b<< else >>c<< end >>", {"a": [], "b": {}}, "c"),
    # Go: range over a slice with $i, $v; else when empty
    ("<< range $i, $v := .l >>[<< $i >>=<< $v >>]<< else >>empty<< end >>", {"l": ["a", "b"]}, "[0=a][1=b]"),
    ("<< range .l >>x<< else >>empty<< end >>", {"l": []}, "empty"),
    # Go: "If the value is a map and the keys are of basic type with a defined order, the
    # elements will be visited in sorted key order."
    ("<< range $k, $v := .m >><< $k >>=<< $v >>,<< end >>", {"m": {"b": 1, "a": 2, "B": 3}}, "B=3,a=2,b=1,"),
    # Go: range over a map with one variable gives the values
    ("<< range $v := .m >><< $v >><< end >>", {"m": {"b": 1, "a": 2}}, "21"),
    # Go: {{break}} and {{continue}} inside range
    ("<< range .l >><< if eq . 2 >><< break >><< end >><< . >><< end >>", {"l": [1, 2, 3]}, "1"),
    ("<< range .l >><< if eq . 2 >><< continue >><< end >><< . >><< end >>", {"l": [1, 2, 3]}, "13"),
    # Go 1.22: range over an integer
    ("<< range 3 >><< . >><< end >>", None, "012"),
    # Go: range over a nil value runs the else branch
    ("<< range .n >>x<< else >>none<< end >>", {"n": None}, "none"),
    # Go: with sets dot; else when empty
    ("<< with .x >><< . >><< else >>none<< end >>", {"x": "v"}, "v"),
    ("<< with .x >><< . >><< else >>none<< end >>", {"x": ""}, "none"),
    # Go 1.23: "else with" chains like "else if"
    ("<< with .a >>a<< else with .b >><< . >><< else >>c<< end >>", {"a": "", "b": "B"}, "B"),
    # Go: define / template / block
    ('<< define "t" >>T<< . >><< end >><< template "t" 5 >>', None, "T5"),
    ('<< block "b" . >>B<< end >>', None, "B"),
    ('<< define "b" >>override<< end >><< template "b" >>', None, "override"),
    # Go: parenthesized pipelines, pipelines passing the last argument
    ('<< (printf "%s-%s" "a" "b") | upper >>', None, "A-B"),
    ('<< "x" | printf "%s-%s" "a" >>', None, "a-x"),
    # Go: literals - raw strings, char constants (runes print as numbers), hex, floats
    ("<< `a\\n` >> << 'a' >> << 0x10 >> << 1e3 >> << 1.5 >> << true >>", None, "a\\n 97 16 1000 1.5 true"),
    ('<< "tab\\there" >>', None, "tab\there"),
    # Go: and/or return the deciding argument; they short-circuit (fail is never called)
    ('<< and 1 0 >> << or 0 "" "z" >> << not 0 >> << or 1 (fail "no") >>', None, "0 z true 1"),
    # Go: len counts the bytes of a string, index/slice
    ('<< len "héllo" >> << len .l >> << index .l 1 >> << slice .l 1 >> << index .m "a" "b" >>',
     {"l": [1, 2, 3], "m": {"a": {"b": "c"}}}, "6 3 2 [2 3] c"),
    # Go: index of a missing map key is the zero value (no missingkey error)
    ('<< index .m "zz" >>', {"m": {}}, "<no value>"),
    # Go: print adds spaces between operands when neither is a string; println always
    ('<< print 1 2 "a" 3 >>|<< println 1 "a" >>', None, "1 2a3|1 a\n"),
    # Go fmt: printf verbs
    ('<< printf "%05d|%q|%v|%-3s|%x|%t|%.2f" 42 "x" .l "a" 255 true 3.14159 >>', {"l": [1, 2.5]},
     '00042|"x"|[1 2.5]|a  |ff|true|3.14'),
    # Go fmt: %v of a map sorts keys; nil inside a collection prints <nil>
    ("<< .m >> << .l >>", {"m": {"b": 1, "a": "x"}, "l": [None, True]}, "map[a:x b:1] [<nil> true]"),
    # Go fmt: a float64 prints in %g form: large numbers in exponent form (JSON numbers are float64)
    ("<< .a >> << .b >> << .c >> << .d >>", {"a": 2.0, "b": 1000000.0, "c": 123456789.0, "d": 0.5}, "2 1e+06 1.23456789e+08 0.5"),
    # Go: comparison: eq with several arguments is "arg1==arg2 || arg1==arg3"
    ('<< eq 2 1 2 >> << ne "a" "b" >> << lt 1 2 >> << le 2 2 >> << gt 1.5 1.0 >> << ge "b" "a" >>', None,
     "true true true true true true"),
    # Go: eq of a nil value and something else is false, not an error
    ("<< eq .n 1 >>", {"n": None}, "false"),
    # Go: html, js, urlquery escaping
    ('<< html "<a&\'>" >> << js "a\'b<" >> << urlquery "a b&c" >>', None, "&lt;a&amp;&#39;&gt; a\\'b\\u003C a+b%26c"),
    # sprig: strings
    ('<< "a" | upper | quote >> << squote 1 >> << lower "AB" >> << title "hello wide-world" >>', None,
     "\"A\" '1' ab Hello Wide-World"),
    ('<< trim "  x " >>|<< trimAll "$" "$a$" >>|<< trimPrefix "a" "abc" >>|<< trimSuffix "c" "abc" >>', None, "x|a|bc|ab"),
    ('<< replace "a" "b" "aaa" >>|<< contains "b" "abc" >>|<< hasPrefix "a" "abc" >>|<< hasSuffix "x" "abc" >>', None,
     "bbb|true|true|false"),
    ('<< repeat 3 "ab" >>|<< substr 1 3 "hello" >>|<< trunc 2 "hello" >>|<< cat "a" 1 nil "b" >>', None, "ababab|el|he|a 1 b"),
    # sprig: split returns a map of _0, _1...; splitList a list; join any list
    ('<< split "/" "a/b" >> << (split "/" "a/b")._1 >> << splitList "," "x,y" >> << join "," (list 1 "a") >>', None,
     "map[_0:a _1:b] b [x y] 1,a"),
    # sprig: indent/nindent (the docs' toYaml | nindent idiom)
    ('<< indent 2 "a\\nb" >>|<< nindent 2 "c" >>', None, "  a\n  b|\n  c"),
    # sprig: default, empty, coalesce, ternary
    ('<< default "d" .e >> << .x | default "y" >> << default "d" "set" >> << empty 0 >> << coalesce 0 "" 3 >> << ternary 1 2 false >>',
     {"e": "", "x": None}, "d y set true 3 2"),
    # sprig: int and the arithmetic functions convert with toInt64 (strings parse, floats truncate)
    ('<< int "42" >> << int 3.9 >> << int "x" >> << add 1 2 3 >> << sub 5 7 >> << div 7 2 >> << mod 7 3 >> << mul 2 3 4 >> << add1 1.5 >>',
     None, "42 3 0 6 -2 3 1 24 2"),
    ('<< max 1 5 3 >> << min 4 2 >> << float64 "1.5" >> << round 2.345 2 >> << ceil 1.2 >> << floor 1.8 >>', None,
     "5 2 1.5 2.35 2 1"),
    # sprig: lists and dicts
    ('<< list 1 "a" | toJson >> << first (list 1 2) >> << last (list 1 2) >> << rest (list 1 2 3) >> << append (list 1) 2 >> << has 2 (list 1 2) >>',
     None, '[1,"a"] 1 2 [2 3] [1 2] true'),
    ('<< $d := dict "a" 1 "b" 2 >><< keys $d | sortAlpha >> << hasKey $d "a" >> << get $d "zz" >>|<< set $d "c" 3 | toJson >> << values (pick $d "a") >> << omit $d "a" "b" | toJson >>',
     None, '[a b] true |{"a":1,"b":2,"c":3} [1] {"c":3}'),
    ('<< uniq (list 1 1 2) >> << without (list 1 2 3) 2 >> << reverse (list 1 2) >> << compact (list 0 1 "" 2) >> << concat (list 1) (list 2) >> << until 3 >>',
     None, "[1 2] [1 3] [2 1] [1 2] [1 2] [0 1 2]"),
    ('<< dig "a" "b" "none" .m >> << dig "a" "x" "none" .m >>', {"m": {"a": {"b": "found"}}}, "found none"),
    # sprig: get returns "" for a missing key (the docs' "get inputs \"name\" | default" idiom)
    ('<< get .m "name" | default .m.ns >>', {"m": {"ns": "team1"}}, "team1"),
    # sprig: encodings and hashes
    ('<< b64enc "hi" >> << b64dec "aGk=" >> << sha256sum "a" | trunc 8 >> << sha1sum "a" | trunc 8 >> << adler32sum "a" >>', None,
     "aGk= hi ca978112 86f7e437 6422626"),
    # sprig: JSON (json.Marshal sorts keys and escapes <, >, &)
    ('<< dict "b" 1 "a" "<x>" | toJson >> << dict "a" "<x>" | toRawJson >> << (fromJson "{\\"n\\": 2}").n >>', None,
     '{"a":"\\u003cx\\u003e","b":1} {"a":"<x>"} 2'),
    ('<< dict "a" (list 1 2) | toPrettyJson >>', None, '{\n  "a": [\n    1,\n    2\n  ]\n}'),
    # sprig: regular expressions
    ('<< regexMatch "^a.c$" "abc" >> << regexFind "[0-9]+" "ab12cd" >> << regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" >> << regexSplit "," "a,b,c" -1 >>',
     None, "true 12 -W-xxW- [a b c]"),
    # sprig: paths and reflection
    ('<< base "a/b.txt" >> << dir "a/b.txt" >> << ext "a/b.txt" >> << clean "a//b/../c" >> << kindOf .l >> << typeOf 1.5 >> << kindIs "string" "x" >>',
     {"l": []}, "b.txt a .txt a/c slice float64 true"),
    # sprig: semantic helpers
    ('<< plural "one" "many" 2 >> << seq 3 >> << duration 90 >> << deepEqual (list 1) (list 1) >>', None, "many 1 2 3 1m30s true"),
    # flux: toYaml (sigs.k8s.io/yaml = go-yaml v2: sorted keys, sequences not indented, literal blocks for
    # multi-line strings, and keys YAML 1.1 reads as booleans, like "n", double-quoted)
    ("<< .m | toYaml >>", {"m": {"b": [1.0, {"c": "x: y"}], "a": "multi\nline", "n": None, "e": {}}},
     "a: |-\n  multi\n  line\nb:\n- 1\n- c: 'x: y'\ne: {}\n\"n\": null\n"),
    # flux: toYaml quotes strings that would read as another type
    ('<< dict "a" "true" "b" "1.0" "c" "" "d" "x y" | toYaml >>', None, 'a: "true"\nb: "1.0"\nc: ""\nd: x y\n'),
    # flux (internal/builder/testdata/resourceset/slugify.golden.yaml): slugify
    ('<< slugify ">=1.0.0-rc.0" >> << "Hello World & Co" | slugify >> << "Déjà Vu" | slugify >>', None,
     "1-0-0-rc-0 hello-world-and-co deja-vu"),
]


@pytest.mark.parametrize("text,data,expected", OUTPUT_ROWS)
def test_output(text, data, expected):
    assert run(text, gt.NOVALUE if data is None else data) == expected


ERROR_ROWS = [
    # Go: a function not in the FuncMap is a parse error (checked when the template is parsed)
    ("<< nosuch 1 >>", None, "parse", 1, 4, 'function "nosuch" not defined'),
    # flux/sprig: HermeticTxtFuncMap removes now, date, uuidv4, env..., and slim-sprig has no required
    ("x\n  << now >>", None, "parse", 2, 6, 'function "now" not defined'),
    ("<< uuidv4 >>", None, "parse", 1, 4, 'function "uuidv4" not defined'),
    ('<< required "m" .x >>', None, "parse", 1, 4, 'function "required" not defined'),
    ("<< env \"HOME\" >>", None, "parse", 1, 4, 'function "env" not defined'),
    # Go: undefined variables, unclosed actions, stray end/else, missing end
    ("<< $y >>", None, "parse", 1, 4, 'undefined variable "$y"'),
    ("<< if >>", None, "parse", 1, 7, "missing value for if"),
    ("a\n<< end >>", None, "parse", 2, 1, "unexpected {{end}}"),
    ("<< if 1 >>x", None, "parse", 1, 12, "unexpected EOF"),
    ("<< 1 ", None, "parse", 1, 6, "unclosed action"),
    ("<< break >>", None, "parse", 1, 4, "{{break}} outside {{range}}"),
    # Go: a comment must sit right against the delimiters
    ("<< /* c */ >>", None, "parse", 1, 4, "unrecognized character in action"),
    # Go: missingkey=error (flux sets it): a missing key fails
    ("<< .x.z >>", {"x": {}}, "exec", 1, 4, 'map has no entry for key "z"'),
    # Go: with missingkey=error and nil data
    ("<< .q >>", None, "exec", 1, 4, 'nil data; no entry for key "q"'),
    # Go: field of a nil interface value
    ("<< .a.b >>", {"a": None}, "exec", 1, 4, "nil pointer evaluating interface {}.b"),
    # Go: eq of different basic kinds (a JSON number is a float64, 2 is an int)
    ("<< eq .n 2 >>", {"n": 2.0}, "exec", 1, 4, "incompatible types for comparison"),
    # Go: lt of non-basic values
    ("<< lt .l 1 >>", {"l": []}, "exec", 1, 4, "invalid type for comparison"),
    # Go: call needs a function value; no template data holds one
    ("<< call .f >>", {"f": 1}, "exec", 1, 4, "error calling call"),
    # Go: a string parameter given a number constant / a float64 value
    ("<< upper 3 >>", None, "exec", 1, 10, "expected string; found 3"),
    ("<< upper .n >>", {"n": 3.0}, "exec", 1, 10, "wrong type for value; expected string; got float64"),
    ("<< .n | indent 2 >>", {"n": 3.0}, "exec", 1, 9, "wrong type for value; expected string; got float64"),
    # Go: wrong number of arguments
    ('<< quote >><< trimPrefix "a" >>', None, "exec", 1, 15, "wrong number of args for trimPrefix: want 2 got 1"),
    # sprig: fail
    ('<< fail "boom" >>', None, "exec", 1, 4, "error calling fail: boom"),
    # Go: range over a string is not allowed
    ("<< range .s >>x<< end >>", {"s": "abc"}, "exec", 1, 10, "range can't iterate over abc"),
    # Go: index out of range
    ("<< index .l 5 >>", {"l": [1]}, "exec", 1, 4, "index out of range: 5"),
    # Go: nil is not a command
    ("<< nil >>", None, "exec", 1, 4, "nil is not a command"),
    # bounds: hostile templates stop with a limit error
    ('<< repeat 100000000 "x" >>', None, "limit", 1, 4, "value too large"),
    ('<< define "r" >><< template "r" . >><< end >><< template "r" >>', None, "limit", 1, 17, "maximum template depth"),
    ("<< range $i := until 100000000 >><< end >>", None, "limit", 1, 16, "value too large"),
    ("<< range 100000000 >><< end >>", None, "limit", 1, 10, "too long"),
    ("<< range 100000 >><< range 100000 >><< end >><< end >>", None, "limit", 1, 28, "too much work"),
    # sprig: regular expressions that could backtrack catastrophically are not evaluated
    ('<< regexMatch "(a+)+b" "aaaa" >>', None, "unsupported", 1, 4, "not evaluated offline"),
    # sprig: functions reading the clock are unknown offline
    ('<< ago 1 >>', None, "unsupported", 1, 4, "clock"),
]


@pytest.mark.parametrize("text,data,kind,line,col,fragment", ERROR_ROWS)
def test_errors(text, data, kind, line, col, fragment):
    with pytest.raises(gt.TemplateError) as ei:
        run(text, gt.NOVALUE if data is None else data, missingkey="error")
    e = ei.value
    assert (e.kind, e.line, e.column) == (kind, line, col), str(e)
    assert fragment in str(e)


def test_missingkey_options():
    # Go Option: "missingkey=default"/"invalid" print <no value>, "zero" the zero value, "error" stops
    assert run("<< .z >>", {}, missingkey="invalid") == "<no value>"
    assert run("<< .z >>", {}, missingkey="zero") == "<no value>"
    with pytest.raises(gt.TemplateError):
        run("<< .z >>", {}, missingkey="error")
    with pytest.raises(ValueError):
        gt.Template("x", missingkey="bogus")


def test_default_delimiters_and_error_string():
    assert gt.render("{{ .a }}-{{- .b }}", {"a": 1, "b": 2}) == "1-2"
    with pytest.raises(gt.TemplateError) as ei:
        gt.render("{{ .a.b }}", {"a": "s"}, name="t")
    # Go: template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE
    assert str(ei.value) == 'template: t:1:4: executing "t" at <.a.b>: can\'t evaluate field b in type string'


def test_output_limit():
    with pytest.raises(gt.TemplateError) as ei:
        run("<< range 2000 >>" + "x" * 5000 + "<< end >>")
    assert ei.value.kind == "limit"
    small = gt.Limits(output=10)
    with pytest.raises(gt.TemplateError):
        run("<< range 20 >>x<< end >>", limits=small)


def test_trace_maps_output_to_template():
    text = "a: 1\n<< range .l >>\nb: << . >>\n<< end >>"
    t = gt.Template(text, delims=("<<", ">>"), funcs=FUNCS)
    trace: list = []
    out = t.execute({"l": ["x", "y"]}, trace=trace)
    assert out == "a: 1\n\nb: x\n\nb: y\n"
    second_b = out.rindex("b:")
    assert gt.line_col(text, gt.source_offset(trace, second_b)) == (3, 1)


def test_hostile_text_never_crashes():
    # every prefix of a template with many constructs either renders or gives a TemplateError
    text = ('<<- define "x" >><< . | quote >><< end ->>\n<< range $i, $v := .l >><< if and $v (ne $i 1) >>'
            '<< template "x" $v >><< else if eq $i 1 >>(<< printf "%d" $i >>)<< end >><< end >> `r` \'c\' 1.5e3')
    for i in range(len(text) + 1):
        try:
            run(text[:i], {"l": [1, 2, 3]})
        except gt.TemplateError:
            pass
