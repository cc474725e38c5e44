//! Edge samplers (docs/semantics.md §2): how the lifted edges over one base edge are drawn.

use std::fmt;
use std::path::PathBuf;

/// The rule that draws the bipartite graph of lifted edges over one base edge.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampler {
    /// Complete bipartite graph (a dense layer).
    Dense,
    /// Each target picks `k` distinct sources uniformly (`k ≤ n_src`).
    InDegree(u32),
    /// Each pair independently with probability `p`; a target left without an in-edge
    /// gets one uniform edge.
    ErdosRenyi(f64),
    /// SET parameterisation `p = ε (n_u + n_v) / (n_u n_v)` of Erdős–Rényi.
    Set(f64),
    /// Union of `k` independent uniform perfect matchings (`n_u = n_v`); multi-edges are
    /// kept, so every target has in-degree exactly `k`. `k = 1` is a random covering.
    KLift(u32),
    /// An edge list read from a file: one `source target` pair of fiber indices per line.
    Explicit(PathBuf),
}

impl Sampler {
    /// Parses `dense`, `in-degree:k`, `erdos-renyi:p`, `set:ε`, `k-lift:k`, `explicit:FILE`.
    pub fn parse(text: &str) -> Result<Sampler, String> {
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (text.trim(), None),
        };
        let need = |what: &str| -> Result<&str, String> {
            arg.filter(|a| !a.is_empty()).ok_or_else(|| {
                format!(
                    "sampler \"{name}\" needs {what}, e.g. \"{name}:{}\"",
                    example(name)
                )
            })
        };
        let int = |what: &str| -> Result<u32, String> {
            let a = need(what)?;
            match a.parse::<u32>() {
                Ok(k) if k >= 1 => Ok(k),
                _ => Err(format!(
                    "sampler \"{name}\": {what} must be a whole number ≥ 1, got \"{a}\""
                )),
            }
        };
        let real = |what: &str, max: f64| -> Result<f64, String> {
            let a = need(what)?;
            match a.parse::<f64>() {
                Ok(p) if p > 0.0 && p <= max && p.is_finite() => Ok(p),
                _ => Err(format!(
                    "sampler \"{name}\": {what} must be a number in (0, {max}], got \"{a}\""
                )),
            }
        };
        let sampler = match name {
            "dense" if arg.is_none() => Sampler::Dense,
            "in-degree" => Sampler::InDegree(int("the in-degree k")?),
            "erdos-renyi" => Sampler::ErdosRenyi(real("the probability p", 1.0)?),
            "set" => Sampler::Set(real("the density ε", f64::MAX)?),
            "k-lift" => Sampler::KLift(int("the number of matchings k")?),
            "explicit" => Sampler::Explicit(PathBuf::from(need("a file")?)),
            "dense" => return Err("sampler \"dense\" takes no argument".into()),
            _ => {
                return Err(format!(
                    "unknown sampler \"{text}\"; expected dense, in-degree:k, erdos-renyi:p, set:ε, k-lift:k or explicit:FILE"
                ))
            }
        };
        Ok(sampler)
    }
}

fn example(name: &str) -> &'static str {
    match name {
        "in-degree" => "16",
        "erdos-renyi" => "0.1",
        "set" => "10",
        "k-lift" => "1",
        "explicit" => "edges.txt",
        _ => "…",
    }
}

impl fmt::Display for Sampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sampler::Dense => write!(f, "dense"),
            Sampler::InDegree(k) => write!(f, "in-degree:{k}"),
            Sampler::ErdosRenyi(p) => write!(f, "erdos-renyi:{p}"),
            Sampler::Set(e) => write!(f, "set:{e}"),
            Sampler::KLift(k) => write!(f, "k-lift:{k}"),
            Sampler::Explicit(p) => write!(f, "explicit:{}", p.display()),
        }
    }
}

impl std::str::FromStr for Sampler {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sampler::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_through_display() {
        for s in [
            "dense",
            "in-degree:16",
            "erdos-renyi:0.25",
            "set:10",
            "k-lift:2",
            "explicit:e.txt",
        ] {
            assert_eq!(Sampler::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn bad_samplers_are_explained() {
        assert!(Sampler::parse("in-degree")
            .unwrap_err()
            .contains("needs the in-degree"));
        assert!(Sampler::parse("in-degree:0").unwrap_err().contains("≥ 1"));
        assert!(Sampler::parse("erdos-renyi:1.5")
            .unwrap_err()
            .contains("(0, 1]"));
        assert!(Sampler::parse("random")
            .unwrap_err()
            .contains("unknown sampler"));
    }
}
