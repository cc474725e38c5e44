//! `sparselift zoo`: lists the built-in base modules, or prints one as TOML (or JSON).
//!
//! The subcommands `sparselift zoo NAME --param value …` are generated from
//! [`sparselift::zoo::ENTRIES`] and their declared parameters, so a new zoo entry shows up
//! here — with its help text and checks — without touching this file. That is why `Args`
//! implements clap's traits by hand instead of deriving them.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Command};
use sparselift::zoo::{self, Entry, ParamKind};

/// Arguments of `sparselift zoo`: nothing (list the entries) or one entry with its options.
pub struct Args {
    chosen: Option<Chosen>,
}

struct Chosen {
    entry: &'static Entry,
    options: Vec<(&'static str, String)>,
    json: bool,
}

/// The subcommand of one entry: `--name VALUE` per parameter, `--name` for switches.
fn entry_command(entry: &'static Entry) -> Command {
    let mut cmd = Command::new(entry.name)
        .about(entry.description)
        .after_help(
            "Prints the module as TOML; save it, edit it, and use it with `sparselift check FILE`.",
        );
    for p in entry.params {
        let arg = Arg::new(p.name).long(p.name);
        let arg = match p.kind {
            ParamKind::Switch => arg.action(ArgAction::SetTrue).help(p.help),
            ParamKind::Count { max, .. } => arg
                .value_name("N")
                // Let "-3" reach the range check, which says what is allowed.
                .allow_negative_numbers(true)
                .help(format!(
                    "{} (1 to {max}) [default: {}]",
                    p.help,
                    p.kind.default_text().unwrap_or_default()
                )),
            ParamKind::Activation(_) => arg
                .value_name("NAME")
                .value_parser(PossibleValuesParser::new(p.kind.choices()))
                .help(format!(
                    "{} [default: {}]",
                    p.help,
                    p.kind.default_text().unwrap_or_default()
                )),
        };
        cmd = cmd.arg(arg);
    }
    cmd.arg(
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .help("print JSON instead of TOML"),
    )
}

impl clap::Args for Args {
    fn augment_args(cmd: Command) -> Command {
        cmd.subcommands(zoo::ENTRIES.iter().map(entry_command))
            .after_help("Without NAME, lists the built-in modules.")
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for Args {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, sub)) = m.subcommand() else {
            return Ok(Args { chosen: None });
        };
        // Subcommands are made from the entries, so clap only hands back known names.
        let entry = zoo::entry(name).ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidSubcommand,
                format!("no zoo entry \"{name}\"\n"),
            )
        })?;
        let mut options = Vec::new();
        for p in entry.params {
            match p.kind {
                ParamKind::Switch => {
                    if sub.get_flag(p.name) {
                        options.push((p.name, "true".to_string()));
                    }
                }
                _ => {
                    if let Some(v) = sub.get_one::<String>(p.name) {
                        options.push((p.name, v.clone()));
                    }
                }
            }
        }
        Ok(Args {
            chosen: Some(Chosen {
                entry,
                options,
                json: sub.get_flag("json"),
            }),
        })
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Some(c) = args.chosen else {
        return super::print_stdout(&listing());
    };
    let given: Vec<(&str, &str)> = c.options.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let module = c.entry.build(&given)?;
    let text = if c.json {
        module.to_json() + "\n"
    } else {
        module.to_string()
    };
    super::print_stdout(&text)
}

/// One line per entry, then its parameters.
fn listing() -> String {
    let width = zoo::ENTRIES.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let mut out = String::from(
        "Built-in base modules (print one as TOML with `sparselift zoo NAME [OPTIONS]`):\n\n",
    );
    for e in zoo::ENTRIES {
        out += &format!("  {:width$}  {}\n", e.name, e.description);
        let params: Vec<String> = e
            .params
            .iter()
            .map(|p| match p.kind.default_text() {
                Some(d) => format!("--{} {d}", p.name),
                None => format!("[--{}]", p.name),
            })
            .collect();
        out += &format!("  {:width$}  {}\n", "", params.join(" "));
    }
    out += "\nExample: sparselift zoo mlp --input 16 --hidden 2 --output 1 > mlp.toml\n";
    out
}
