// Natural width of display math as KaTeX lays it out, in em of the surrounding font (10 pt: 1 em = 10 pt).
// Usage: node katex_width.js KATEX_MODULE_DIR < [[name, tex], ...]  ->  [[name, width_em, error], ...]
// KaTeX builds a tree of spans and glyphs; glyph widths come from KaTeX's own TeX font metrics
// (src/fontMetricsData.js), spacing from the spans' inline styles (glue, struts, array column
// separation), script sizes from the sizing classes; stacked boxes (fractions, scripts, table
// rows) take the width of their widest row. Merged glyph runs are re-measured character by
// character (KaTeX keeps only the first glyph's width on a merged node).
const path = require("path");
const fs = require("fs");
const dir = process.argv[2];
const katex = require(dir);
const src = fs.readFileSync(path.join(dir, "src", "fontMetricsData.js"), "utf8").replace("export default", "return");
const METRICS = new Function(src)();
const SIZES = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.44, 1.728, 2.074, 2.488];
const FONT_HINTS = [["mathnormal", "Math-Italic"], ["boldsymbol", "Math-BoldItalic"], ["mathbf", "Main-Bold"],
  ["mathit", "Main-Italic"], ["amsrm", "AMS-Regular"], ["size1", "Size1-Regular"], ["size2", "Size2-Regular"],
  ["size3", "Size3-Regular"], ["size4", "Size4-Regular"], ["large-op", "Size2-Regular"], ["small-op", "Size1-Regular"],
  ["mathsf", "SansSerif-Regular"], ["mathtt", "Typewriter-Regular"], ["mathcal", "Caligraphic-Regular"]];

function em(value) {
  if (!value) return 0;
  const m = /^(-?[0-9.]+)em$/.exec(value);
  return m ? parseFloat(m[1]) : 0;
}

function glyphWidth(node) {
  const chars = Array.from(node.text);
  if (chars.length <= 1) return node.width || 0;
  const classes = node.classes || [];
  const fonts = FONT_HINTS.filter(([c]) => classes.includes(c)).map(([, f]) => f).concat(["Main-Regular", "Math-Italic"]);
  const first = String(chars[0].codePointAt(0));
  const font = fonts.find(f => METRICS[f] && METRICS[f][first] && Math.abs(METRICS[f][first][4] - node.width) < 1e-9)
    || fonts.find(f => METRICS[f] && METRICS[f][first]) || "Main-Regular";
  let w = 0;
  for (const ch of chars) {
    const m = METRICS[font][String(ch.codePointAt(0))];
    w += m ? m[4] : (node.width || 0.5);
  }
  return w;
}

function width(node, scale) {
  const classes = node.classes || [];
  const style = node.style || {};
  let own = scale;
  if (classes.includes("sizing") || classes.includes("katex-sizing") || classes.includes("fontsize-ensurer")) {
    const reset = classes.find(c => c.startsWith("reset-size"));
    const size = classes.find(c => /^size\d+$/.test(c));
    if (reset && size) own = scale * SIZES[parseInt(size.slice(4)) - 1] / SIZES[parseInt(reset.slice(10)) - 1];
  }
  const margins = (em(style.marginLeft) + em(style.marginRight)) * own;
  if (node.text !== undefined) {
    const italic = node.italic > 0 && style.marginRight === undefined ? 0 : 0;
    return glyphWidth(node) * own + margins + italic;
  }
  if (classes.includes("nulldelimiter")) return 0.12 * own + margins;
  if (classes.includes("vlist-s") || classes.includes("frac-line") || classes.includes("pstrut")) return margins;
  if (style.width !== undefined && (!node.children || node.children.length === 0)) return em(style.width) * own + margins;
  if (node.attributes && node.attributes.width && /em$/.test(node.attributes.width)) {
    return em(node.attributes.width) * own + margins;  // an SVG (stretchy delimiters, sqrt)
  }
  const kids = (node.children || []).map(c => width(c, own));
  if (classes.includes("vlist")) return Math.max(0, ...kids) + margins;  // stacked rows
  if (style.width !== undefined) return Math.max(em(style.width) * own, kids.reduce((a, b) => a + b, 0)) + margins;
  return kids.reduce((a, b) => a + b, 0) + margins;
}

let data = "";
process.stdin.on("data", c => data += c);
process.stdin.on("end", () => {
  const out = [];
  for (const [name, tex] of JSON.parse(data)) {
    try {
      const tree = katex.__renderToHTMLTree(tex, {displayMode: true, throwOnError: true, strict: "error"});
      out.push([name, width(tree, 1), null]);
    } catch (e) {
      out.push([name, null, String(e.message || e)]);
    }
  }
  process.stdout.write(JSON.stringify(out));
});
