"""The matching rule of the fair (supply.fair.match) on small hand-worked examples.

Needs are N1, N2, N3 (ids 1, 2, 3), offers O1, O2 (ids 11, 12). Each side lists the other in
rank order, first choice first."""

from supply.fair import match

MUTUAL, DEFERRED = "mutual_first", "deferred"
N1, N2, N3 = 1, 2, 3
O1, O2 = 11, 12


def test_a_mutual_first_choice_is_matched_as_such():
    # N1 and O1 are each other's first choice; N2 (first choice O1, taken) then gets O2 by
    # deferred acceptance
    result = match(
        [N1, N2],
        {N1: [O1, O2], N2: [O1, O2]},
        {O1: [N1, N2], O2: [N2, N1]},
        {O1: 1, O2: 1},
    )
    assert result == {N1: (O1, MUTUAL), N2: (O2, DEFERRED)}


def test_a_mutual_first_choice_wins_over_a_need_the_offer_ranks_lower():
    # O1's first choice is N2, whose first choice is O1: N1 (O1's second) loses O1
    result = match(
        [N1, N2],
        {N1: [O1, O2], N2: [O1]},
        {O1: [N2, N1], O2: [N1]},
        {O1: 1, O2: 1},
    )
    assert result == {N1: (O2, DEFERRED), N2: (O1, MUTUAL)}


def test_a_chain_where_deferred_acceptance_changes_tentative_matches():
    """No mutual first choices. N1 proposes O1 (held); N2 proposes O2 (held); N3 proposes
    O1, which prefers N3 and rejects N1; N1 proposes O2, which prefers N1 and rejects N2; N2
    proposes O1, which prefers N2 and rejects N3; N3 has no choice left. The tentative
    N1–O1 and N2–O2 both changed: N1–O2, N2–O1, N3 unmatched."""
    result = match(
        [N1, N2, N3],
        {N1: [O1, O2], N2: [O2, O1], N3: [O1]},
        {O1: [N2, N3, N1], O2: [N1, N2]},
        {O1: 1, O2: 1},
    )
    assert result == {N1: (O2, DEFERRED), N2: (O1, DEFERRED)}
    assert N3 not in result


def test_the_result_does_not_depend_on_the_order_needs_are_given():
    args = (
        {N1: [O1, O2], N2: [O2, O1], N3: [O1]},
        {O1: [N2, N3, N1], O2: [N1, N2]},
        {O1: 1, O2: 1},
    )
    assert match([N3, N2, N1], *args) == match([N1, N2, N3], *args)


def test_an_unacceptable_pair_is_never_matched_even_with_room_left():
    # N1 chose O1 but O1's provider did not choose N1: O1 stays empty, N1 unmatched
    result = match([N1], {N1: [O1]}, {O1: []}, {O1: 3})
    assert result == {}
    # and a provider's choice of a need that did not choose it is no match either
    assert match([N1], {N1: []}, {O1: [N1]}, {O1: 1}) == {}


def test_an_offer_with_capacity_two_holds_its_two_best():
    # O1 serves two schools: of N1, N2, N3 (all wanting O1 only) it keeps N3 (each other's
    # first choice) and N1
    result = match(
        [N1, N2, N3],
        {N1: [O1], N2: [O1], N3: [O1]},
        {O1: [N3, N1, N2]},
        {O1: 2},
    )
    assert result == {N1: (O1, DEFERRED), N3: (O1, MUTUAL)}


def test_an_offer_without_capacity_takes_nobody():
    # a provider no longer admitted: capacity 0, even for a mutual first choice
    assert match([N1], {N1: [O1]}, {O1: [N1]}, {O1: 0}) == {}


def test_ties_cannot_arise_ranks_are_positions_in_a_list():
    """A side's ranking is a list: two choices never share a rank (the services refuse a
    repeated number and the database a repeated rank, tests/supply/test_fair.py). Swapping
    O1's order swaps the winner: the rule decides, never the order of the ids."""
    prefs = {N1: [O1], N2: [O1]}
    assert match([N1, N2], prefs, {O1: [N1, N2]}, {O1: 1}) == {N1: (O1, MUTUAL)}
    assert match([N1, N2], prefs, {O1: [N2, N1]}, {O1: 1}) == {N2: (O1, MUTUAL)}
