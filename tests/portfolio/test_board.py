"""The board counts every use case in each lane and shows only each lane's newest, both in SQL."""

from __future__ import annotations

from portfolio.board import PortfolioFilter, board_lanes, portfolio_count


def test_each_lane_counts_all_its_use_cases_and_shows_its_newest(session, make_user, make_use_case) -> None:
    owner, other = make_user("contributor"), make_user("contributor")
    made = [make_use_case(1, owner=owner, title=f"Case {i}") for i in range(5)]
    for use_case, stage in zip(made, ("pilot", "pilot", "pilot", "paused", "retired")):
        use_case.stage = stage  # set directly: the moves are tested elsewhere
        session.add(use_case)
    make_use_case(2, owner=other, title="Someone else's idea")
    session.commit()
    lanes = {lane.title: lane for lane in board_lanes(session=session, actor=owner, per_lane=2)}
    assert list(lanes) == ["idea", "assessment", "pilot", "production", "scaled", "paused / retired"]
    assert {title: lane.count for title, lane in lanes.items() if lane.count} == {
        "idea": 1, "pilot": 3, "paused / retired": 2}
    assert [r.use_case.title for r in lanes["pilot"].rows] == ["Case 2", "Case 1"]  # the newest two of three
    assert [r.use_case.title for r in lanes["paused / retired"].rows] == ["Case 4", "Case 3"]
    mine = board_lanes(session=session, actor=owner, filters=PortfolioFilter(owner_email=other.email))
    assert [(lane.title, lane.count, [r.owner for r in lane.rows]) for lane in mine if lane.count] == [
        ("idea", 1, [other.email])]
    assert portfolio_count(session=session, actor=owner) == 6
    assert portfolio_count(session=session, actor=owner, filters=PortfolioFilter(owner_email=owner.email)) == 5
