//! The figures catalogue agrees with the documents it quotes: a README
//! rewritten without its figure, or a figure whose quote holds no number,
//! is caught here, in every test run, long before anyone reruns the
//! measurements.

use xtask::figures::{check_quotes, load};
use xtask::workspace::Workspace;

#[test]
fn every_quoted_figure_still_stands_in_its_document() {
    let workspace = Workspace::locate().expect("the tests run inside the workspace");
    let figures = load(&workspace).expect("xtask/figures.toml parses");
    assert!(
        !figures.figure.is_empty(),
        "the catalogue lists the documentation's figures"
    );
    if let Err(error) = check_quotes(&workspace, &figures) {
        panic!("{error}");
    }
}
