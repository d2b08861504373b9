//! The pinned universe that transactions plan over, in one of two forms that callers need not
//! tell apart.
//!
//! With one pinned source whose snapshot has a name directory (the usual case), the snapshot
//! is read in place: the solver works over its table and a package is found through the
//! directory. Converting bookworm's 63,440 packages to the owned model instead took about
//! 240 ms, longer than the solve. With several sources (whose tables would have to be merged)
//! or an older snapshot without a directory, every package is converted as before.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// The pinned sources, loaded; [`Pinned::view`] reads them.
pub(crate) struct Pinned {
    packages: Packages,
    indices: BTreeMap<String, store::Sha256>,
    /// The index files, the preferences and every package's pin priority (empty: all alike).
    pub(crate) files: crate::policy::Files,
    pub(crate) prefs: solver::policy::Preferences,
    pub(crate) pins: Vec<i16>,
    /// The architectures the sources' indices have besides the native one (`repo add
    /// --arch`): the solver considers their packages, as dpkg does after `dpkg
    /// --add-architecture`.
    pub(crate) foreign: Vec<String>,
}

enum Packages {
    /// The one source's snapshot, mapped.
    Snapshot {
        snapshot: store::Snapshot,
        origin: store::PackageOrigin,
    },
    Owned(Owned),
}

/// Every pinned package as owned data, with the packages of each name in universe order.
struct Owned {
    universe: store::Universe,
    origins: Vec<store::PackageOrigin>,
    by_name: HashMap<String, Vec<usize>>,
}

impl Owned {
    fn new(universe: store::Universe, origins: Vec<store::PackageOrigin>) -> Self {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in universe.packages.iter().enumerate() {
            by_name.entry(p.name.clone()).or_default().push(i);
        }
        Owned {
            universe,
            origins,
            by_name,
        }
    }
}

impl Pinned {
    /// Loads the pinned sources of `st` with the preferences of the state directory at
    /// `root`.
    pub(crate) fn load(st: &store::Store, root: &std::path::Path) -> crate::Result<Self> {
        Self::load_packages(st)?.with_policy(st, root)
    }

    /// Computes the pin priorities ([`crate::policy`]).
    fn with_policy(mut self, st: &store::Store, root: &std::path::Path) -> crate::Result<Self> {
        self.files = crate::policy::Files::load(st)?;
        let native = store::native_architecture();
        let mut foreign: Vec<String> = (self.files.files.iter())
            .map(|f| f.arch.clone())
            .filter(|a| a != native && a != "all")
            .collect();
        foreign.sort();
        foreign.dedup();
        self.foreign = foreign;
        self.prefs = crate::policy::preferences(root)?;
        if crate::policy::alike(&self.files, &self.prefs) {
            return Ok(self);
        }
        let pins = crate::policy::priorities(
            &self.view()?,
            &self.files,
            &self.prefs,
            store::native_architecture(),
        )?;
        self.pins = pins;
        Ok(self)
    }

    /// The pinned packages without pin priorities: for finding recorded packages, not for
    /// planning.
    pub(crate) fn load_packages(st: &store::Store) -> crate::Result<Self> {
        let t = std::time::Instant::now();
        let pins = st.pins()?;
        let indices = pins
            .iter()
            .map(|p| (p.source.clone(), p.inrelease_sha256))
            .collect();
        if let [pin] = pins.as_slice() {
            let snapshot = st.snapshot(pin)?;
            // A first-format snapshot has no table: `names` fails, and the owned path reads it.
            if snapshot.names().is_ok_and(|n| n.is_some()) {
                let uri = st
                    .sources()?
                    .into_iter()
                    .find(|s| s.name == pin.source)
                    .map(|s| s.uri)
                    .unwrap_or_default();
                let origin = store::PackageOrigin {
                    source: pin.source.clone(),
                    uri,
                };
                tracing::info!(
                    "mapped the pinned snapshot ({} packages) in {:?}",
                    pin.packages,
                    t.elapsed()
                );
                return Ok(Self {
                    packages: Packages::Snapshot { snapshot, origin },
                    indices,
                    files: Default::default(),
                    prefs: Default::default(),
                    pins: Vec::new(),
                    foreign: Vec::new(),
                });
            }
        }
        let (universe, origins) = st.universe()?;
        tracing::info!(
            "loaded the pinned universe ({} packages) in {:?}",
            universe.packages.len(),
            t.elapsed()
        );
        Ok(Self {
            packages: Packages::Owned(Owned::new(universe, origins)),
            indices,
            files: Default::default(),
            prefs: Default::default(),
            pins: Vec::new(),
            foreign: Vec::new(),
        })
    }

    /// [`Pinned::load`] with `installed` added to the universe: packages a state has that no
    /// pinned index offers (particle's own package on a machine, a package whose source was
    /// removed), described by the dpkg database they were installed with, so that the solver
    /// keeps them as apt keeps what dpkg has installed. They need the owned form.
    pub(crate) fn load_keeping(
        st: &store::Store,
        root: &std::path::Path,
        installed: Vec<store::Package>,
    ) -> crate::Result<Self> {
        if installed.is_empty() {
            return Self::load(st, root);
        }
        let indices = st
            .pins()?
            .iter()
            .map(|p| (p.source.clone(), p.inrelease_sha256))
            .collect();
        let (mut universe, mut origins) = st.universe()?;
        for p in installed {
            universe.packages.push(p);
            origins.push(store::PackageOrigin {
                source: "installed".to_owned(),
                uri: String::new(),
            });
        }
        Self {
            packages: Packages::Owned(Owned::new(universe, origins)),
            indices,
            files: Default::default(),
            prefs: Default::default(),
            pins: Vec::new(),
            foreign: Vec::new(),
        }
        .with_policy(st, root)
    }

    /// The pinned packages as an owned universe (in universe order) and their pin priorities,
    /// for a caller that adds packages of its own.
    pub(crate) fn into_universe(self) -> crate::Result<(store::Universe, Vec<i16>)> {
        let universe = match self.packages {
            Packages::Snapshot { snapshot, .. } => snapshot.to_universe()?,
            Packages::Owned(o) => o.universe,
        };
        Ok((universe, self.pins))
    }

    /// Read access for one planning step. Viewing a snapshot checks its strings as UTF-8, a
    /// pass over the whole string blob, so a caller takes one view and keeps it for the step.
    pub(crate) fn view(&self) -> crate::Result<PinnedView<'_>> {
        let packages = match &self.packages {
            Packages::Snapshot { snapshot, origin } => {
                let table = snapshot.view()?;
                let names = table
                    .names()
                    .expect("load chose the snapshot because it has a name directory");
                View::Table {
                    table,
                    names,
                    origin,
                }
            }
            Packages::Owned(owned) => View::Owned(owned),
        };
        Ok(PinnedView {
            packages,
            pins: &self.pins,
            foreign: Cow::Borrowed(&self.foreign),
            indices: &self.indices,
        })
    }
}

/// A package of a [`PinnedView`], valid for that view only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PkgRef(pub(crate) usize);

/// What a plan reads of a package without converting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PkgInfo<'p> {
    pub(crate) name: &'p str,
    pub(crate) version: &'p str,
    pub(crate) arch: &'p str,
    pub(crate) size: u64,
    pub(crate) sha256: store::Sha256,
}

/// The pinned universe, read in place or owned (see the module documentation).
pub(crate) struct PinnedView<'p> {
    packages: View<'p>,
    /// Every package's pin priority ([`Pinned::pins`]).
    pins: &'p [i16],
    /// The foreign architectures the solver considers: the sources' ([`Pinned::foreign`]) or
    /// what a variant declares ([`PinnedView::with_architectures`]).
    foreign: Cow<'p, [String]>,
    /// Each source's pinned InRelease, as a transaction records it.
    pub(crate) indices: &'p BTreeMap<String, store::Sha256>,
}

enum View<'p> {
    Table {
        table: store::TableView<'p>,
        names: &'p store::ArchivedNameDirectory,
        origin: &'p store::PackageOrigin,
    },
    Owned(&'p Owned),
}

impl<'p> PinnedView<'p> {
    pub(crate) fn solver(&self) -> solver::Solver<'p> {
        let options = solver::Options {
            pins: self.pins.to_vec(),
            foreign_archs: self.foreign.to_vec(),
            ..solver::Options::default()
        };
        match &self.packages {
            View::Table { table, .. } => solver::Solver::from_table(*table, &options),
            View::Owned(o) => solver::Solver::new(&o.universe, &options),
        }
    }

    /// This view with the solver limited to `archs` (a variant's declared architectures; the
    /// native one is always considered), or unchanged for `None`.
    pub(crate) fn with_architectures(mut self, archs: Option<&[String]>) -> Self {
        if let Some(archs) = archs {
            let native = store::native_architecture();
            self.foreign = Cow::Owned(archs.iter().filter(|a| *a != native).cloned().collect());
        }
        self
    }

    /// The foreign architectures the solver considers (before [`Self::with_architectures`]:
    /// those the pinned indices carry).
    pub(crate) fn source_architectures(&self) -> &[String] {
        &self.foreign
    }

    /// How many packages there are.
    pub(crate) fn len(&self) -> usize {
        match &self.packages {
            View::Table { table, .. } => table.len(),
            View::Owned(o) => o.universe.packages.len(),
        }
    }

    /// Every package called `name`, in universe order.
    pub(crate) fn named(&self, name: &str) -> Vec<PkgRef> {
        match &self.packages {
            View::Table { table, names, .. } => names
                .find(table, name)
                .map(|e| {
                    // A damaged directory may name a package past the table: none, then.
                    names
                        .packages(e)
                        .map(|p| p as usize)
                        .filter(|&p| p < table.len())
                        .map(PkgRef)
                        .collect()
                })
                .unwrap_or_default(),
            View::Owned(o) => o
                .by_name
                .get(name)
                .map(|v| v.iter().copied().map(PkgRef).collect())
                .unwrap_or_default(),
        }
    }

    /// The package a resolved entry names: this name, version and architecture with this
    /// .deb (several sources may list one version with different .debs; the solver chose one).
    pub(crate) fn find(&self, e: &store::PackageEntry) -> Option<PkgRef> {
        self.named(&e.name).into_iter().find(|&r| {
            let p = self.record(r);
            p.version == e.version && p.arch == e.arch && p.sha256 == e.sha256
        })
    }

    pub(crate) fn record(&self, r: PkgRef) -> PkgInfo<'p> {
        match &self.packages {
            View::Table { table, .. } => {
                let p = &table.packages[r.0];
                PkgInfo {
                    name: table.str(&p.name),
                    version: table.str(&p.version),
                    arch: table.str(&p.arch),
                    size: p.size.to_native(),
                    sha256: store::Sha256(p.sha256),
                }
            }
            View::Owned(o) => {
                let p = &o.universe.packages[r.0];
                PkgInfo {
                    name: &p.name,
                    version: &p.version,
                    arch: &p.arch,
                    size: p.size,
                    sha256: p.sha256,
                }
            }
        }
    }

    /// The whole package (converted from the table when read in place).
    pub(crate) fn package(&self, r: PkgRef) -> Cow<'p, store::Package> {
        match &self.packages {
            View::Table { table, .. } => Cow::Owned(
                table
                    .package(r.0)
                    .expect("a PkgRef is an index of its view's table"),
            ),
            View::Owned(o) => Cow::Borrowed(&o.universe.packages[r.0]),
        }
    }

    /// The source the package's .deb is fetched from.
    pub(crate) fn origin(&self, r: PkgRef) -> &'p store::PackageOrigin {
        match &self.packages {
            View::Table { origin, .. } => origin,
            View::Owned(o) => &o.origins[r.0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use journal::{PackageEntry, State};

    /// Two versions of `app` and `lib` (for upgrades), a virtual package, a recommendation, and
    /// a package listed twice (as by two components of one source) with different .debs.
    const PACKAGES: &str = "\
Package: lib
Version: 1.0
Architecture: amd64
Size: 10
SHA256: 0101010101010101010101010101010101010101010101010101010101010101
Filename: pool/lib_1.0_amd64.deb

Package: lib
Version: 2.0
Architecture: amd64
Size: 20
SHA256: 0202020202020202020202020202020202020202020202020202020202020202
Filename: pool/lib_2.0_amd64.deb

Package: app
Version: 1.0
Architecture: amd64
Depends: lib (>= 1.0), mta
Size: 30
SHA256: 0303030303030303030303030303030303030303030303030303030303030303
Filename: pool/app_1.0_amd64.deb

Package: app
Version: 2.0
Architecture: amd64
Depends: lib (>= 2.0), mta
Recommends: extra
Size: 40
SHA256: 0404040404040404040404040404040404040404040404040404040404040404
Filename: pool/app_2.0_amd64.deb

Package: mailer
Version: 1.0
Architecture: amd64
Provides: mta
Size: 50
SHA256: 0505050505050505050505050505050505050505050505050505050505050505
Filename: pool/mailer_1.0_amd64.deb

Package: extra
Version: 1.0
Architecture: all
Depends: dup
Size: 60
SHA256: 0606060606060606060606060606060606060606060606060606060606060606
Filename: pool/extra_1.0_all.deb

Package: dup
Version: 1.0
Architecture: amd64
Size: 70
SHA256: 0707070707070707070707070707070707070707070707070707070707070707
Filename: pool/main/dup_1.0_amd64.deb

Package: dup
Version: 1.0
Architecture: amd64
Size: 80
SHA256: 0808080808080808080808080808080808080808080808080808080808080808
Filename: pool/contrib/dup_1.0_amd64.deb
";

    /// The same universe read in place and owned.
    fn both() -> [Pinned; 2] {
        let table = store::PackageTable::parse(PACKAGES).expect("the test index parses");
        let snapshot = store::Snapshot::encode(&table).expect("the table encodes");
        let universe = snapshot.to_universe().expect("the snapshot converts");
        let origin = store::PackageOrigin {
            source: "test".into(),
            uri: "file:///mirror".into(),
        };
        let origins = vec![origin.clone(); universe.packages.len()];
        let indices = BTreeMap::from([("test".to_owned(), store::Sha256([9; 32]))]);
        [
            Pinned {
                packages: Packages::Snapshot { snapshot, origin },
                indices: indices.clone(),
                files: Default::default(),
                prefs: Default::default(),
                pins: Vec::new(),
                foreign: Vec::new(),
            },
            Pinned {
                packages: Packages::Owned(Owned::new(universe, origins)),
                indices,
                files: Default::default(),
                prefs: Default::default(),
                pins: Vec::new(),
                foreign: Vec::new(),
            },
        ]
    }

    fn state(packages: &[(&str, &str, u8)]) -> State {
        State {
            packages: packages
                .iter()
                .map(|&(name, version, sha)| PackageEntry {
                    name: name.into(),
                    version: version.into(),
                    arch: "amd64".into(),
                    sha256: store::Sha256([sha; 32]),
                })
                .collect(),
            ..State::default()
        }
    }

    fn request(install: &[&str], remove: &[&str], upgrade: bool) -> solver::Request {
        solver::Request {
            install: install.iter().map(|s| (*s).to_owned()).collect(),
            remove: remove.iter().map(|s| (*s).to_owned()).collect(),
            upgrade,
            no_recommends: false,
        }
    }

    #[test]
    fn the_table_and_the_owned_universe_plan_alike() {
        let [table, owned] = both();
        let (table, owned) = (table.view().expect("views"), owned.view().expect("views"));
        assert!(matches!(table.packages, View::Table { .. }));
        assert!(matches!(owned.packages, View::Owned(_)));
        let installed = state(&[("lib", "1.0", 1), ("app", "1.0", 3), ("mailer", "1.0", 5)]);
        let cases = [
            (State::default(), request(&["app"], &[], false)),
            (installed.clone(), request(&[], &[], true)),
            (installed.clone(), request(&[], &["app"], false)),
            (installed.clone(), request(&["extra"], &[], false)),
        ];
        for (old, req) in &cases {
            let planned = crate::txn::solve_state(&table, old, req).expect("solves");
            let expected = crate::txn::solve_state(&owned, old, req).expect("solves");
            assert_eq!(planned, expected, "{req:?}");
            assert!(!planned.packages.is_empty());
            for p in &planned.packages {
                let a = table.find(p).expect("found");
                let b = owned.find(p).expect("found");
                assert_eq!(table.record(a), owned.record(b));
                assert_eq!(table.package(a), owned.package(b));
                assert_eq!(table.origin(a), owned.origin(b));
            }
        }
        // Of the package listed twice with different .debs, both pick the first in universe
        // order, apt's rule (until the sixteenth issue's solver change, particle took the last).
        let upgraded =
            crate::txn::solve_state(&table, &State::default(), &cases[0].1).expect("solves");
        let dup = upgraded
            .packages
            .iter()
            .find(|p| p.name == "dup")
            .expect("recommended");
        assert_eq!(dup.sha256, store::Sha256([7; 32]));
        assert_eq!(table.named("dup").len(), 2);
        assert_eq!(owned.named("dup").len(), 2);
        assert!(table.named("mta").is_empty() && owned.named("mta").is_empty());
        let entry = |version: &str, sha: u8| PackageEntry {
            name: "dup".into(),
            version: version.into(),
            arch: "amd64".into(),
            sha256: store::Sha256([sha; 32]),
        };
        for view in [&table, &owned] {
            assert_eq!(
                view.record(view.find(&entry("1.0", 8)).expect("second"))
                    .size,
                80
            );
            assert_eq!(
                view.record(view.find(&entry("1.0", 7)).expect("first"))
                    .size,
                70
            );
            assert_eq!(view.find(&entry("1.0", 9)), None);
            assert_eq!(view.find(&entry("3.0", 7)), None);
        }
    }
}
