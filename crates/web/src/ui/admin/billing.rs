//! (page to come)

use crate::AppState;
use axum::Router;

#[allow(dead_code)]
pub(crate) struct DutyCard;

#[allow(dead_code)]
pub(crate) async fn duty_card() -> Option<DutyCard> {
    None
}

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r
}
