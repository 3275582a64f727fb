//! The rows of the permission matrix for availability, holidays, the
//! backlog and explained decisions (A8, A11, A12), the reports (D2) and
//! one's time zone (X6).

use super::*;

pub(super) fn rows() -> Vec<Row> {
    use Need::*;
    vec![
        // X6: one's own time zone.
        (
            "PUT",
            "/api/v1/me/preferences",
            "",
            Some(|_| json!({"time_zone": "Asia/Kolkata"})),
            Any,
        ),
        // D2: the account's figures need what sees every member's clients.
        (
            "GET",
            "/api/v1/reports/speed-to-lead",
            "",
            None,
            Perm(P::ClientsViewOthers),
        ),
        (
            "GET",
            "/api/v1/reports/leads",
            "",
            None,
            Perm(P::ClientsViewOthers),
        ),
        // Availability (A8): anyone's to see with team.view, to change with
        // members.manage (the target is another member).
        (
            "GET",
            "/api/v1/members/{id}/schedule",
            "target",
            None,
            Perm(P::TeamView),
        ),
        (
            "PUT",
            "/api/v1/members/{id}/schedule",
            "target",
            Some(
                |_| json!({"time_zone": "Europe/Paris", "hours": {"monday": [{"start": "09:00", "end": "17:00"}]}}),
            ),
            Perm(P::MembersManage),
        ),
        (
            "GET",
            "/api/v1/members/{id}/time-off",
            "target",
            None,
            Perm(P::TeamView),
        ),
        (
            "POST",
            "/api/v1/members/{id}/time-off",
            "target",
            Some(|_| json!({"from": "2030-01-01", "to": "2030-01-02"})),
            Perm(P::MembersManage),
        ),
        (
            "DELETE",
            "/api/v1/members/{id}/time-off/{entry_id}",
            "target",
            None,
            Perm(P::MembersManage),
        ),
        (
            "GET",
            "/api/v1/members/{id}/availability",
            "target",
            None,
            Perm(P::TeamView),
        ),
        (
            "PUT",
            "/api/v1/members/{id}/availability",
            "target",
            Some(|_| json!({"away": false})),
            Perm(P::MembersManage),
        ),
        ("GET", "/api/v1/holidays", "", None, Any),
        (
            "POST",
            "/api/v1/holidays",
            "",
            Some(|_| json!({"day": "2030-12-25", "name": "Christmas"})),
            Perm(P::MembersManage),
        ),
        (
            "DELETE",
            "/api/v1/holidays/{id}",
            "holiday",
            None,
            Perm(P::MembersManage),
        ),
        (
            "GET",
            "/api/v1/clients/{id}/routing",
            "client",
            None,
            OthersClient(&Any),
        ),
        (
            "GET",
            "/api/v1/routing/backlog",
            "",
            None,
            Perm(P::ClientsViewUnassigned),
        ),
    ]
}
