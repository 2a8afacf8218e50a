//! Who may set a region's rule data (poverty lines and rule variants): county staff, for
//! their own region or a part of it. A leaf shared by [`super::thresholds`] and
//! [`super::policy`].
//!
//! What this module must never do: let anyone set data for a region above their own.
//! A line or variant set for a prefix covers every region under it, so a county's staff
//! setting one for their province would change the rules of its other counties.

use crate::auth::Caller;

/// Whether the caller may set lines and variants for `region_prefix` (the leading
/// digits of the division codes covered): a region they manage, at their level or below.
pub fn may_set_for(caller: &Caller, region_prefix: &str) -> bool {
    let padded = format!("{region_prefix:0<12}");
    caller.manages_region(&padded)
        && caller.grants.iter().filter(|g| g.role.manages()).any(|g| region_prefix.len() >= g.prefix.len())
}
