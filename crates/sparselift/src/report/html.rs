//! The HTML page and the Markdown summary. The page is one self-contained file: CSS
//! inline, figures as inline SVG, no scripts, nothing fetched.

use super::chart::Figure;
use super::render::FAMILY;
use super::ReportMeta;
use crate::experiment::summary::{FamilySummary, LearningNumber, Summary};
use crate::experiment::table::{
    bytes, count, family_verdict, interval, loss, number, percent, seconds, significant,
};
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
  :root { color-scheme: light; }
  body { font-family: FONTS; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; }
  main { max-width: 960px; margin: 0 auto; padding: 20px 28px 48px; }
  h1 { font-size: 26px; margin: 4px 0 6px; }
  h2 { font-size: 20px; margin: 34px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
  p.description { margin: 4px 0 10px; color: #333; }
  dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; font-size: 14px; }
  dl.meta dt { color: #666; } dl.meta dd { margin: 0; }
  .verdict { background: #f3f7fb; border-left: 4px solid #0072b2; padding: 8px 14px; margin: 12px 0; font-size: 15px; }
  .verdict .miss { color: #b04000; }
  figure { margin: 14px 0 6px; }
  figure svg { width: 100%; height: auto; display: block; }
  figcaption { font-size: 14px; color: #444; margin-top: 4px; }
  figcaption a { color: #0060a0; }
  table { border-collapse: collapse; font-size: 14px; margin: 10px 0; width: 100%; }
  th, td { padding: 4px 9px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
  th { background: #f6f6f6; font-weight: 600; white-space: normal; vertical-align: bottom; }
  td.name, th.name { text-align: left; }
  tr.first td { border-top: 2px solid #cfcfcf; }
  td.pass { color: #006a4e; font-weight: 600; }
  #module svg { width: auto; max-width: 100%; margin: 0 auto; }
  p.note { color: #555; font-style: italic; }
";

/// The complete `report.html`. The base module is drawn by the figure named `module`;
/// without one, `module_note` says why.
pub(crate) fn page(
    meta: &ReportMeta,
    summary: &Summary,
    figures: &[Figure],
    module_note: Option<&str>,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n",
        escape(&meta.title),
        STYLE.replace("FONTS", FAMILY)
    );
    let _ = writeln!(h, "<h1>{}</h1>", escape(&meta.title));
    if !meta.description.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"description\">{}</p>",
            escape(&meta.description)
        );
    }
    h.push_str("<dl class=\"meta\">\n");
    let families: Vec<&str> = summary.families.iter().map(|f| f.family.as_str()).collect();
    let mut facts = vec![
        ("tolerance ε".to_string(), number(summary.epsilon)),
        ("failure probability δ".to_string(), number(summary.delta)),
        (
            "confidence".to_string(),
            format!("{}%", percent(summary.confidence)),
        ),
        ("runs".to_string(), summary.runs.to_string()),
        ("families".to_string(), families.join(", ")),
    ];
    facts.extend(meta.provenance.iter().cloned());
    for (k, v) in &facts {
        let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    h.push_str("</dl>\n");
    h.push_str(&verdict(summary));

    let by_name = |name: &str| figures.iter().find(|f| f.name == name);
    if let Some(f) = by_name("success") {
        figure(&mut h, f);
    }
    match (by_name("module"), module_note) {
        (Some(f), _) => {
            let _ = writeln!(h, "<h2>{}</h2>", escape(&f.title));
            figure(&mut h, f);
        }
        (None, Some(note)) => {
            let _ = writeln!(
                h,
                "<h2>Base module</h2>\n<p class=\"note\">{}</p>",
                escape(note)
            );
        }
        (None, None) => {}
    }
    h.push_str("<h2>Success rates</h2>\n");
    h.push_str(&stats_table(summary));
    for name in ["loss", "final_loss"] {
        if let Some(f) = by_name(name) {
            let _ = writeln!(h, "<h2>{}</h2>", escape(&f.title));
            figure(&mut h, f);
        }
    }
    h.push_str("<h2>Cost</h2>\n");
    h.push_str(&cost_table(summary));
    match by_name("cost_success") {
        Some(f) => figure(&mut h, f),
        None => {
            h.push_str("<p>The runs did not record their memory, so cost is not plotted.</p>\n")
        }
    }
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

fn figure(h: &mut String, f: &Figure) {
    // plotters writes no XML declaration and no ids, so several SVGs inline safely.
    let _ = writeln!(
        h,
        "<figure id=\"{name}\">\n{svg}\n<figcaption><b>{title}.</b> {caption} \
         <a href=\"{name}.svg\">SVG</a> · <a href=\"{name}.png\">PNG</a></figcaption>\n</figure>",
        name = f.name,
        svg = f.svg.trim(),
        title = escape(&f.title),
        caption = escape(&f.caption),
    );
}

fn verdict(summary: &Summary) -> String {
    let mut h = format!(
        "<div class=\"verdict\"><b>Learning number</b> n*(ε = {}, δ = {}) at {}% confidence: ",
        number(summary.epsilon),
        number(summary.delta),
        percent(summary.confidence)
    );
    let parts: Vec<String> = summary
        .families
        .iter()
        .map(|f| match f.learning_number {
            LearningNumber::Reached { .. } => escape(&family_verdict(f)),
            LearningNumber::NotReached { .. } => {
                format!("<span class=\"miss\">{}</span>", escape(&family_verdict(f)))
            }
        })
        .collect();
    h.push_str(&parts.join("; "));
    h.push_str("</div>\n");
    h
}

fn rows(summary: &Summary) -> impl Iterator<Item = (&FamilySummary, usize)> {
    summary
        .families
        .iter()
        .flat_map(|f| (0..f.sizes.len()).map(move |i| (f, i)))
}

fn stats_table(summary: &Summary) -> String {
    let mut h = format!(
        "<table>\n<tr><th class=\"name\">family</th><th>n</th><th>runs</th><th>successes</th>\
         <th>rate</th><th>{}% CI</th><th>converged / timeout / diverged</th>\
         <th>final loss median [10%, 90%]</th><th>median time to ε</th></tr>\n",
        percent(summary.confidence)
    );
    for (f, i) in rows(summary) {
        let s = &f.sizes[i];
        let pass = s.interval.lower >= 1.0 - summary.delta;
        let _ =
            writeln!(
            h,
            "<tr{first}><td class=\"name\">{family}</td><td>{n}</td><td>{runs}</td><td>{ok}</td>\
             <td>{rate:.2}</td><td{cls}>{ci}</td><td>{c} / {t} / {d}</td>\
             <td>{q50} [{q10}, {q90}]</td><td>{tte}</td></tr>",
            first = if i == 0 { " class=\"first\"" } else { "" },
            family = if i == 0 { escape(&f.family) } else { String::new() },
            n = s.size,
            runs = s.runs,
            ok = s.successes,
            rate = s.rate,
            cls = if pass { " class=\"pass\"" } else { "" },
            ci = interval(s),
            c = s.converged,
            t = s.timeout,
            d = s.diverged,
            q50 = loss(s.final_loss.q50),
            q10 = loss(s.final_loss.q10),
            q90 = loss(s.final_loss.q90),
            tte = s.median_time_to_eps.map(significant).unwrap_or_else(|| "–".into()),
        );
    }
    h.push_str("</table>\n");
    h
}

fn cost_table(summary: &Summary) -> String {
    let mut h = String::from(
        "<table>\n<tr><th class=\"name\">family</th><th>n</th><th>parameters</th><th>edges</th>\
         <th>forward FLOPs / sample</th><th>memory (params + indices)</th>\
         <th>median gradient evaluations</th><th>median wall time</th></tr>\n",
    );
    for (f, i) in rows(summary) {
        let s = &f.sizes[i];
        let c = &s.cost;
        let _ = writeln!(
            h,
            "<tr{first}><td class=\"name\">{family}</td><td>{n}</td><td>{p}</td><td>{e}</td>\
             <td>{fl}</td><td>{m} <small>({pb} + {ib})</small></td><td>{ge}</td><td>{w} s</td></tr>",
            first = if i == 0 { " class=\"first\"" } else { "" },
            family = if i == 0 { escape(&f.family) } else { String::new() },
            n = s.size,
            p = count(c.params),
            e = count(c.edges),
            fl = count(c.flops_per_sample),
            m = bytes(c.memory_bytes),
            pb = bytes(c.param_bytes),
            ib = bytes(c.index_bytes),
            ge = count(c.median_grad_evals.round() as u64),
            w = seconds(c.median_wall_s),
        );
    }
    h.push_str("</table>\n");
    h
}

/// `summary.md`: the verdict, one table of rates and cost, and links to the figures.
pub(crate) fn markdown(meta: &ReportMeta, summary: &Summary, figures: &[Figure]) -> String {
    let mut m = format!("# {}\n\n", meta.title);
    if !meta.description.is_empty() {
        let _ = writeln!(m, "{}\n", meta.description);
    }
    let _ = writeln!(m, "{}\n", summary.verdict());
    let _ = writeln!(
        m,
        "| family | n | successes / runs | rate | {}% CI | median final loss | median wall s | parameters | edges | FLOPs / sample | memory |",
        percent(summary.confidence)
    );
    m.push_str("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (f, i) in rows(summary) {
        let s = &f.sizes[i];
        let _ = writeln!(
            m,
            "| {} | {} | {}/{} | {:.2} | {} | {} | {} | {} | {} | {} | {} |",
            f.family.replace('|', "\\|"),
            s.size,
            s.successes,
            s.runs,
            s.rate,
            interval(s),
            loss(s.final_loss.q50),
            seconds(s.cost.median_wall_s),
            count(s.cost.params),
            count(s.cost.edges),
            count(s.cost.flops_per_sample),
            bytes(s.cost.memory_bytes),
        );
    }
    m.push('\n');
    for f in figures {
        let _ = writeln!(m, "![{}]({}.png)\n", f.title, f.name);
    }
    m
}
