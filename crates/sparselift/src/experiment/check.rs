//! Checking a whole [`Experiment`] before a sweep claims its output directory: the base
//! module, the data (loaded or generated once) against the module, and every family at
//! every size — its lift recipe and the run's estimated memory — without drawing a lift
//! or training. A mistake that would stop the sweep later is an error now, naming the
//! family, the size and what to change.

use super::{Experiment, RunKey};
use crate::train::check_fit;
use crate::{Error, Result};

/// What to change when a run of the experiment would not fit in memory.
const MEMORY_HINT: &str =
    "use a sparser sampler for the family (e.g. in-degree:16), fewer samples, or precision = \"f32\"";

impl Experiment {
    /// Checks that every run of the experiment can start: the module, the data against it,
    /// and every family at every size (its lift recipe, without drawing it, and the run's
    /// estimated memory).
    ///
    /// ```
    /// use sparselift::experiment::Experiment;
    ///
    /// let exp = Experiment::from_toml(r#"
    ///     module = "zoo:mlp?input=4&hidden=2&output=1"
    ///     data = "witness:m=2,n=16"
    ///     method = "flow:t=10"
    ///     epsilon = 1e-2
    ///     delta = 0.1
    ///     seeds = 2
    ///
    ///     [[family]]
    ///     name = "sparse"
    ///     sampler = "in-degree:4"
    ///     sizes = [8, 2]
    /// "#, "exp.toml")?;
    /// let e = exp.check().unwrap_err().to_string();
    /// assert!(e.contains("family \"sparse\" at size 2") && e.contains("in-degree:4"), "{e}");
    /// # Ok::<(), sparselift::Error>(())
    /// ```
    pub fn check(&self) -> Result<()> {
        self.grid()?;
        let module = self.module.resolve()?;
        let Some(first) = self.families.first() else {
            return Ok(());
        };
        let Some(&size) = first.sizes.first() else {
            return Ok(());
        };
        // The data do not depend on the family or the size; the seed only changes which
        // samples a file's split puts on each side.
        let spec = self.run_spec(&RunKey::new(&first.name, size, 0))?;
        let data = format!("data = \"{}\"", self.data);
        let (train, test) = spec
            .datasets(&module)
            .map_err(|e| at_data(e, &data, "change the experiment's data"))?;
        for set in std::iter::once(&train).chain(&test) {
            check_fit(&module, set).map_err(|e| {
                at_data(
                    e,
                    &data,
                    "change the experiment's module or data so that they fit",
                )
            })?;
        }
        for family in &self.families {
            let mut sizes = family.sizes.clone();
            sizes.sort_unstable();
            sizes.dedup();
            let check = |n: u32| {
                self.run_spec(&RunKey::new(&family.name, n, 0))?.check(
                    &module,
                    &train,
                    test.as_ref(),
                    MEMORY_HINT,
                )
            };
            for &n in &sizes {
                if let Err(e) = check(n) {
                    // Dropping the size is a fix only when some other size works.
                    let others = sizes.iter().any(|&m| m != n && check(m).is_ok());
                    return Err(at_size(e, &family.name, n, others));
                }
            }
        }
        Ok(())
    }
}

/// Places an error of the experiment's data: `at` before its own place, `hint` when it
/// has none.
fn at_data(e: Error, at: &str, hint: &str) -> Error {
    match e {
        Error::Invalid {
            at: inner,
            message,
            hint: h,
        } => Error::Invalid {
            at: format!("{at}: {inner}"),
            message,
            hint: Some(h.unwrap_or_else(|| hint.to_string())),
        },
        other => other,
    }
}

/// Places an error of family `family` at size `n`; when other sizes of the family pass,
/// the hint adds that this one can be dropped instead.
fn at_size(e: Error, family: &str, n: u32, others_pass: bool) -> Error {
    let drop = format!("remove {n} from the sizes of family \"{family}\"");
    match e {
        Error::Invalid { at, message, hint } => Error::Invalid {
            at: format!("family \"{family}\" at size {n}: {at}"),
            message,
            hint: match (hint, others_pass) {
                (Some(h), true) => Some(format!("{h}; or {drop}")),
                (None, true) => Some(drop),
                (hint, false) => hint,
            },
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An experiment on a 4-input MLP with `hidden` layers, `data`, and one family.
    fn experiment(hidden: usize, data: &str, sampler: &str, sizes: &str) -> Experiment {
        Experiment::from_toml(
            &format!(
                r#"
                module = "zoo:mlp?input=4&hidden={hidden}&output=1"
                data = "{data}"
                method = "flow:t=10"
                epsilon = 1e-2
                delta = 0.1
                seeds = 3

                [[family]]
                name = "fam"
                sampler = "{sampler}"
                sizes = {sizes}
                "#
            ),
            "exp.toml",
        )
        .unwrap()
    }

    fn error(exp: &Experiment) -> String {
        let e = exp.check().unwrap_err();
        assert!(e.is_user_error(), "{e}");
        e.to_string()
    }

    #[test]
    fn a_sound_experiment_passes() {
        experiment(2, "witness:m=2,n=16", "in-degree:2", "[2, 4, 8]")
            .check()
            .unwrap();
    }

    #[test]
    fn an_in_degree_above_a_size_names_the_family_the_size_and_the_fix() {
        let e = error(&experiment(
            2,
            "witness:m=2,n=16",
            "in-degree:3",
            "[8, 4, 2]",
        ));
        assert!(
            e.contains("family \"fam\" at size 2: edge \"h1->h2\"")
                && e.contains("in-degree:3 needs k ≤ 2")
                && e.contains("remove 2 from the sizes of family \"fam\""),
            "{e}"
        );
    }

    #[test]
    fn a_mistake_at_every_size_does_not_suggest_dropping_one() {
        let mut exp = experiment(2, "witness:m=2,n=16", "in-degree:2", "[2, 4]");
        exp.families[0]
            .edges
            .insert("h7->h8".into(), crate::lift::Sampler::Dense);
        let e = error(&exp);
        assert!(
            e.contains("family \"fam\" at size 2: edge \"h7->h8\": no such base edge")
                && !e.contains("remove 2"),
            "{e}"
        );
    }

    #[test]
    fn data_that_do_not_fit_the_module_are_found_before_any_run() {
        let e = error(&experiment(2, "digits", "dense", "[2]"));
        assert!(
            e.contains(
                "data = \"digits\": data: the module takes 4 inputs per sample, the data have 64"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_size_too_large_for_memory_is_refused_with_the_estimate() {
        // Seven complete hidden-to-hidden edges of 65535² weights: terabytes of θ and its
        // gradients, although the lift itself (complete graphs) needs no indices.
        let e = error(&experiment(8, "witness:m=2,n=16", "dense", "[4, 65535]"));
        assert!(
            e.contains("family \"fam\" at size 65535: run: needs an estimated")
                && e.contains("θ and θ(0)")
                && e.contains("precision = \"f32\"")
                && e.contains("remove 65535 from the sizes"),
            "{e}"
        );
    }
}
