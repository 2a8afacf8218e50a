//! R7: member changes (成员自然增减) — the reasons a person joins or leaves a household.
//!
//! 004 附件3 注2: 增加原因包括（1）新生儿、（2）婚入、（3）户籍迁入、（4）刑满释放、
//! （5）收养、（6）失联人口回归. 004 附件4 注2: 减少原因包括（1）死亡、（2）婚出、
//! （3）出国定居、（4）判刑收监、（5）户籍迁出、（6）农转非、（7）失联、（8）分散供养转
//! 集中供养. The form asks for the number in brackets ("如婚入填“2”"), so each reason
//! carries its number as well as its code; phones read the same lists from the
//! `member_increase_reason` and `member_decrease_reason` code tables.
//! 003 附件4–5 are the same forms of 2017; 000 附件1 counts the changes by reason.
//!
//! What this module must never do: renumber a reason (the numbers are the form's) or
//! decide whether a change is allowed — changes run as procedures (C4).

use super::facts::coded;

coded! {
    /// 004 附件3: 增加原因 (1)–(6).
    IncreaseReason {
        Newborn => "newborn", "新生儿";
        MarriageIn => "marriage_in", "婚入";
        MovedIn => "moved_in", "户籍迁入";
        Released => "released", "刑满释放";
        Adoption => "adoption", "收养";
        Returned => "returned", "失联人口回归";
    }
}

coded! {
    /// 004 附件4: 减少原因 (1)–(8).
    DecreaseReason {
        Death => "death", "死亡";
        MarriageOut => "marriage_out", "婚出";
        SettledAbroad => "settled_abroad", "出国定居";
        Imprisoned => "imprisoned", "判刑收监";
        MovedOut => "moved_out", "户籍迁出";
        UrbanHukou => "urban_hukou", "农转非";
        Missing => "missing", "失联";
        InstitutionalCare => "institutional_care", "分散供养转集中供养";
    }
}

impl IncreaseReason {
    /// The number the form asks for, 1–6.
    pub fn number(self) -> u8 {
        form_number(Self::ALL, self)
    }

    pub fn from_number(number: u8) -> Option<Self> {
        usize::from(number).checked_sub(1).and_then(|i| Self::ALL.get(i)).copied()
    }
}

impl DecreaseReason {
    /// The number the form asks for, 1–8.
    pub fn number(self) -> u8 {
        form_number(Self::ALL, self)
    }

    pub fn from_number(number: u8) -> Option<Self> {
        usize::from(number).checked_sub(1).and_then(|i| Self::ALL.get(i)).copied()
    }
}

/// Position in the form's list, from 1. `ALL` is declared in the form's order.
fn form_number<T: PartialEq>(all: &[T], reason: T) -> u8 {
    let index = all.iter().position(|r| *r == reason).unwrap_or(0);
    u8::try_from(index + 1).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingzhun_mobile_api::codes;

    #[test]
    fn numbers_and_labels_are_the_forms() {
        let increases =
            [(1, "新生儿"), (2, "婚入"), (3, "户籍迁入"), (4, "刑满释放"), (5, "收养"), (6, "失联人口回归")];
        for (number, label) in increases {
            let reason = IncreaseReason::from_number(number).expect("numbered");
            assert_eq!((reason.number(), reason.label()), (number, label));
        }
        let decreases = [
            (1, "死亡"),
            (2, "婚出"),
            (3, "出国定居"),
            (4, "判刑收监"),
            (5, "户籍迁出"),
            (6, "农转非"),
            (7, "失联"),
            (8, "分散供养转集中供养"),
        ];
        for (number, label) in decreases {
            let reason = DecreaseReason::from_number(number).expect("numbered");
            assert_eq!((reason.number(), reason.label()), (number, label));
        }
        // "如婚入填“2”", "如婚出填“2”".
        assert_eq!(IncreaseReason::MarriageIn.number(), 2);
        assert_eq!(DecreaseReason::MarriageOut.number(), 2);
        assert_eq!(IncreaseReason::from_number(0), None);
        assert_eq!(IncreaseReason::from_number(7), None);
        assert_eq!(DecreaseReason::from_number(9), None);
    }

    #[test]
    fn phones_get_the_same_lists() {
        let pairs = |table: &codes::CodeTable| table.codes.iter().map(|c| (c.code, c.label)).collect::<Vec<_>>();
        let ours_in: Vec<_> = IncreaseReason::ALL.iter().map(|r| (r.code(), r.label())).collect();
        let ours_out: Vec<_> = DecreaseReason::ALL.iter().map(|r| (r.code(), r.label())).collect();
        assert_eq!(pairs(&codes::MEMBER_INCREASE_REASON), ours_in);
        assert_eq!(pairs(&codes::MEMBER_DECREASE_REASON), ours_out);
    }
}
