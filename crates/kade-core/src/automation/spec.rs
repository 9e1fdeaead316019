//! A rule as written in `kade.toml` (`[[automation]]`), and its validation into a [`Rule`].
//!
//! Every field is optional at this level so that the config loader can report *all* problems of
//! a rule at once; [`RuleSpec::build`] returns each as `(key, message)` and the loader adds the
//! rule's name and the file position.

use serde::Deserialize;

use super::template::Template;
use super::timing::{QuietHours, parse_wait};
use super::{Action, Cap, Condition, EntityKind, Rule, Trigger, WhatsAppMessage};

/// One `when = [...]` entry: `{ field = "status", equals = "completed" }`,
/// `{ field = "country", in = ["NL", "BE"] }`, `{ field = "emailaddress", exists = true }`,
/// `{ tag = "VIP" }`, `{ no_tag = "B2B" }`, `{ field = "status", not_equals = "cancelled" }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    pub field: Option<String>,
    pub equals: Option<String>,
    pub not_equals: Option<String>,
    #[serde(rename = "in")]
    pub one_of: Option<Vec<String>>,
    pub exists: Option<bool>,
    pub tag: Option<String>,
    pub no_tag: Option<String>,
}

/// `quiet_hours = { from = "21:00", to = "08:00", utc_offset = "+01:00" }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietSpec {
    pub from: Option<String>,
    pub to: Option<String>,
    pub utc_offset: Option<String>,
}

/// `cap = { max = 3, per = "7d" }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapSpec {
    pub max: Option<i64>,
    pub per: Option<String>,
}

/// `[[automation]]`. No `Debug`: `secret` may hold a literal secret.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: Option<String>,
    pub connection: Option<String>,
    pub trigger: Option<String>,
    #[serde(default)]
    pub when: Vec<ConditionSpec>,
    pub wait: Option<String>,
    pub quiet_hours: Option<QuietSpec>,
    pub cap: Option<CapSpec>,
    /// `email`, `whatsapp`, `sms` or `webhook`.
    pub channel: Option<String>,
    /// Email subject.
    pub subject: Option<String>,
    /// Email and SMS text; the `text` field of a webhook.
    pub body: Option<String>,
    /// WhatsApp free text (inside the 24-hour window only).
    pub text: Option<String>,
    /// WhatsApp approved template name, its language and its parameters (templates themselves).
    pub template: Option<String>,
    pub language: Option<String>,
    pub params: Option<Vec<String>>,
    /// Webhook target and its `whsec_…` secret (already resolved from `env:`/`file:`).
    pub url: Option<String>,
    pub secret: Option<String>,
}

type Problems = Vec<(String, String)>;

fn template(key: &str, text: &str, kind: EntityKind, problems: &mut Problems) -> Option<Template> {
    match Template::parse(text) {
        Ok(t) => {
            for v in t.variables() {
                if v.starts_with("return_") && kind != EntityKind::Return {
                    problems
                        .push((key.into(), format!("{{{{{v}}}}} is only available to return triggers (returns.*)")));
                }
            }
            Some(t)
        }
        Err(e) => {
            problems.push((key.into(), e.to_string()));
            None
        }
    }
}

fn required<'a>(v: &'a Option<String>, key: &str, why: &str, problems: &mut Problems) -> Option<&'a str> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => v.as_deref(),
        _ => {
            problems.push((key.into(), format!("is required {why}")));
            None
        }
    }
}

impl ConditionSpec {
    fn build(&self, problems: &mut Problems, key: &str) -> Option<Condition> {
        let field = self.field.clone().filter(|f| !f.trim().is_empty());
        let tests = [
            self.equals.is_some(),
            self.not_equals.is_some(),
            self.one_of.is_some(),
            self.exists.is_some(),
            self.tag.is_some(),
            self.no_tag.is_some(),
        ];
        if tests.iter().filter(|t| **t).count() != 1 {
            problems.push((
                key.into(),
                "needs exactly one of equals, not_equals, in, exists (with field), or tag / no_tag".into(),
            ));
            return None;
        }
        if let Some(title) = self.tag.clone().or(self.no_tag.clone()) {
            if field.is_some() {
                problems.push((key.into(), "tag / no_tag take no field".into()));
            }
            return Some(Condition::Tag { title, present: self.tag.is_some() });
        }
        let Some(field) = field else {
            problems.push((key.into(), "needs a field, e.g. { field = \"status\", equals = \"completed\" }".into()));
            return None;
        };
        Some(if let Some(value) = self.equals.clone() {
            Condition::Equals { field, value }
        } else if let Some(value) = self.not_equals.clone() {
            Condition::NotEquals { field, value }
        } else if let Some(values) = self.one_of.clone() {
            if values.is_empty() {
                problems.push((key.into(), "in = [] can never match".into()));
            }
            Condition::In { field, values }
        } else {
            Condition::Exists { field, present: self.exists.unwrap_or(true) }
        })
    }
}

impl RuleSpec {
    /// Validates the rule. On failure, every problem as `(key, message)`.
    pub fn build(&self) -> Result<Rule, Problems> {
        let mut p: Problems = Vec::new();
        let name = required(&self.name, "name", "(a unique name, e.g. \"review-request\")", &mut p).map(str::to_string);
        if let Some(n) = &name
            && !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            p.push(("name".into(), format!("{n:?}: use lower-case letters, digits, '-' and '_'")));
        }
        let trigger = required(&self.trigger, "trigger", "(e.g. \"orders.completed\" or \"order.shipped\")", &mut p)
            .and_then(|t| Trigger::parse(t).map_err(|e| p.push(("trigger".into(), e))).ok());
        let kind = trigger.as_ref().map_or(EntityKind::Other, Trigger::entity_kind);
        let conditions: Vec<Condition> =
            self.when.iter().enumerate().filter_map(|(i, c)| c.build(&mut p, &format!("when[{i}]"))).collect();
        let wait_ms = match &self.wait {
            None => 0,
            Some(w) => parse_wait(w).unwrap_or_else(|e| {
                p.push(("wait".into(), e));
                0
            }),
        };
        let quiet_hours = self.quiet_hours.as_ref().and_then(|q| {
            let (from, to) = (q.from.as_deref().unwrap_or(""), q.to.as_deref().unwrap_or(""));
            QuietHours::parse(from, to, q.utc_offset.as_deref().unwrap_or("Z"))
                .map_err(|e| p.push(("quiet_hours".into(), e)))
                .ok()
        });
        let cap = self.cap.as_ref().and_then(|c| {
            let max = c.max.filter(|m| (1..=1000).contains(m));
            let period = c.per.as_deref().map(parse_wait);
            match (max, period) {
                (Some(max), Some(Ok(period_ms))) if period_ms > 0 => Some(Cap { max: max as u32, period_ms }),
                (None, _) => {
                    p.push(("cap.max".into(), "must be a number from 1 to 1000".into()));
                    None
                }
                (_, Some(Err(e))) => {
                    p.push(("cap.per".into(), e));
                    None
                }
                _ => {
                    p.push(("cap.per".into(), "is required, e.g. per = \"7d\"".into()));
                    None
                }
            }
        });
        let action = self.action(kind, &mut p);
        match (name, trigger, action) {
            (Some(name), Some(trigger), Some(action)) if p.is_empty() => Ok(Rule {
                name,
                connection: self.connection.clone(),
                trigger,
                conditions,
                wait_ms,
                quiet_hours,
                cap,
                action,
            }),
            _ => Err(p),
        }
    }

    fn action(&self, kind: EntityKind, p: &mut Problems) -> Option<Action> {
        let channel = required(&self.channel, "channel", "(email, whatsapp, sms or webhook)", p)?;
        let unused = |keys: &[(&str, bool)], p: &mut Problems| {
            for (k, set) in keys {
                if *set {
                    p.push(((*k).into(), format!("is not used by channel {channel:?}")));
                }
            }
        };
        let t = |key: &str, v: &Option<String>, why: &str, p: &mut Problems| {
            required(v, key, why, p).and_then(|s| template(key, s, kind, p))
        };
        match channel {
            "email" => {
                unused(
                    &[
                        ("text", self.text.is_some()),
                        ("template", self.template.is_some()),
                        ("url", self.url.is_some()),
                    ],
                    p,
                );
                let subject = t("subject", &self.subject, "for email", p);
                let body = t("body", &self.body, "for email", p);
                Some(Action::Email { subject: subject?, body: body? })
            }
            "sms" => {
                unused(
                    &[("subject", self.subject.is_some()), ("text", self.text.is_some()), ("url", self.url.is_some())],
                    p,
                );
                Some(Action::Sms { body: t("body", &self.body, "for sms", p)? })
            }
            "whatsapp" => {
                unused(
                    &[("subject", self.subject.is_some()), ("body", self.body.is_some()), ("url", self.url.is_some())],
                    p,
                );
                match (&self.text, &self.template) {
                    (Some(_), Some(_)) => {
                        p.push((
                            "text".into(),
                            "give either text (free text) or template (approved template), not both".into(),
                        ));
                        None
                    }
                    (Some(_), None) => Some(Action::WhatsApp(WhatsAppMessage::Text(t("text", &self.text, "", p)?))),
                    (None, Some(name)) => {
                        let language =
                            required(&self.language, "language", "with a WhatsApp template (e.g. \"nl\")", p);
                        let params: Vec<Option<Template>> =
                            self.params.iter().flatten().map(|s| template("params", s, kind, p)).collect();
                        let params: Option<Vec<Template>> = params.into_iter().collect();
                        Some(Action::WhatsApp(WhatsAppMessage::Template {
                            name: name.clone(),
                            language: language?.to_string(),
                            params: params?,
                        }))
                    }
                    (None, None) => {
                        p.push(("template".into(), "whatsapp needs template (+ language, params) or text".into()));
                        None
                    }
                }
            }
            "webhook" => {
                unused(
                    &[
                        ("subject", self.subject.is_some()),
                        ("text", self.text.is_some()),
                        ("template", self.template.is_some()),
                    ],
                    p,
                );
                let url = required(&self.url, "url", "for webhook", p).map(str::to_string);
                if let Some(u) = &url
                    && !(u.starts_with("https://") || u.starts_with("http://"))
                {
                    p.push(("url".into(), format!("{u:?} is not an http(s) URL")));
                }
                let secret = required(&self.secret, "secret", "for webhook (a whsec_… Standard Webhooks secret)", p)
                    .map(str::to_string);
                let body = match &self.body {
                    Some(b) => Some(template("body", b, kind, p)?),
                    None => None,
                };
                Some(Action::Webhook { url: url?, secret: secret?, body })
            }
            other => {
                p.push(("channel".into(), format!("{other:?} is not a channel: use email, whatsapp, sms or webhook")));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(trigger: &str, body: &str) -> RuleSpec {
        RuleSpec {
            name: Some("review".into()),
            trigger: Some(trigger.into()),
            channel: Some("email".into()),
            subject: Some("Order {{order_number}}".into()),
            body: Some(body.into()),
            ..RuleSpec::default()
        }
    }

    #[test]
    fn a_complete_rule_builds() {
        let mut s = email("orders.completed", "Hi {{customer_name}}");
        s.wait = Some("2d".into());
        s.when = vec![ConditionSpec {
            field: Some("country".into()),
            one_of: Some(vec!["NL".into()]),
            ..Default::default()
        }];
        s.quiet_hours =
            Some(QuietSpec { from: Some("21:00".into()), to: Some("08:00".into()), utc_offset: Some("+01:00".into()) });
        s.cap = Some(CapSpec { max: Some(2), per: Some("7d".into()) });
        let r = s.build().unwrap();
        assert_eq!(r.wait_ms, 2 * 86_400_000);
        assert_eq!(r.action.channel(), "email");
        assert_eq!(r.cap, Some(Cap { max: 2, period_ms: 7 * 86_400_000 }));
        assert!(r.conditions_hold(&serde_json::json!({"deliverycountry": "nl"})));
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let mut s = email("orders.completed", "Hi {{custome_name}}");
        s.wait = Some("two days".into());
        s.when = vec![ConditionSpec { field: Some("status".into()), ..Default::default() }];
        s.text = Some("x".into());
        let problems = s.build().unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["when[0]", "wait", "text", "body"], "{problems:?}");
        assert!(problems[3].1.contains("line 1, column 6: unknown variable {{custome_name}}"), "{problems:?}");
    }

    #[test]
    fn return_variables_need_a_return_trigger() {
        let problems = email("orders.completed", "{{return_number}}").build().unwrap_err();
        assert!(problems[0].1.contains("only available to return triggers"), "{problems:?}");
        assert!(email("returns.products_received", "{{return_number}}").build().is_ok());
    }

    #[test]
    fn whatsapp_and_webhook_shapes() {
        let wa = RuleSpec {
            name: Some("shipped".into()),
            trigger: Some("order.shipped".into()),
            channel: Some("whatsapp".into()),
            template: Some("order_shipped".into()),
            params: Some(vec!["{{order_number}}".into(), "{{tracking_url}}".into()]),
            ..RuleSpec::default()
        };
        let problems = wa.clone().build().unwrap_err();
        assert_eq!(problems[0].0, "language");
        let ok = RuleSpec { language: Some("nl".into()), ..wa }.build().unwrap();
        assert!(
            matches!(ok.action, Action::WhatsApp(WhatsAppMessage::Template { ref params, .. }) if params.len() == 2)
        );
        let hook = RuleSpec {
            name: Some("hook".into()),
            trigger: Some("orders.closed".into()),
            channel: Some("webhook".into()),
            url: Some("ftp://x".into()),
            ..RuleSpec::default()
        };
        let problems = hook.build().unwrap_err();
        assert_eq!(problems.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["url", "secret"]);
        let bad = RuleSpec { channel: Some("pigeon".into()), ..email("orders.closed", "") };
        assert!(bad.build().unwrap_err()[0].1.contains("not a channel"));
    }
}
