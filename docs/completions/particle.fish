# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_particle_global_optspecs
    string join \n root= sysroot= json v/verbose q/quiet h/help V/version
end

function __fish_particle_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_particle_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_particle_using_subcommand
    set -l cmd (__fish_particle_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c particle -n "__fish_particle_needs_command" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_needs_command" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_needs_command" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_needs_command" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c particle -n "__fish_particle_needs_command" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_needs_command" -f -a "init" -d 'Create the state directory and the first variant'
complete -c particle -n "__fish_particle_needs_command" -f -a "repo" -d 'Archive sources: add, import from apt, list, update'
complete -c particle -n "__fish_particle_needs_command" -f -a "store" -d 'The content-addressed package store'
complete -c particle -n "__fish_particle_needs_command" -f -a "txn" -d 'Transactions: install, remove, upgrade, rollback, profiles, history'
complete -c particle -n "__fish_particle_needs_command" -f -a "variant" -d 'Variants: the OS flavours built from this state directory'
complete -c particle -n "__fish_particle_needs_command" -f -a "compose" -d 'Build every defined variant, parents first (apply each definition, rebase children)'
complete -c particle -n "__fish_particle_needs_command" -f -a "deploy" -d 'Deploy a variant\'s commit into an OSTree sysroot (--sysroot DIR) with its recorded kernel arguments and the machine\'s own'
complete -c particle -n "__fish_particle_needs_command" -f -a "image" -d 'Write a bootable disk image of a variant\'s head commit (GRUB for BIOS and UEFI, an OSTree sysroot with the commit deployed); OUT is complete or absent'
complete -c particle -n "__fish_particle_needs_command" -f -a "export" -d 'Export a variant\'s commit'
complete -c particle -n "__fish_particle_needs_command" -f -a "push" -d 'Push a variant\'s head as an OCI image to a registry with skopeo, tagged latest and with its transaction id, signed with a sigstore key when given'
complete -c particle -n "__fish_particle_needs_command" -f -a "pull" -d 'Copy an image from a registry into an OCI image layout DIR only if the signature policy (containers-policy.json) accepts it; particle verifies sigstore signatures itself'
complete -c particle -n "__fish_particle_needs_command" -f -a "key" -d 'Signing keys'
complete -c particle -n "__fish_particle_needs_command" -f -a "delta" -d 'Generate a static delta between two transactions\' commits'
complete -c particle -n "__fish_particle_needs_command" -f -a "status" -d 'Each variant\'s head transaction, commit, package count and profile'
complete -c particle -n "__fish_particle_needs_command" -f -a "remote" -d 'A machine\'s remotes: the repositories `publish` wrote that it upgrades from'
complete -c particle -n "__fish_particle_needs_command" -f -a "upgrade" -d 'Pull the variant this machine runs from its remote, verify it, and stage it (deploy it offline) with the machine\'s own packages re-applied'
complete -c particle -n "__fish_particle_needs_command" -f -a "bundle" -d 'Write an update bundle: the static delta between two transactions\' commits of one variant, the journal\'s records after FROM up to TO, and a signed index, in one file'
complete -c particle -n "__fish_particle_needs_command" -f -a "gc" -d 'Remove commits and cached .debs that no variant head, deployment or recent transaction needs (the journal is never pruned: any state is rebuilt from it)'
complete -c particle -n "__fish_particle_needs_command" -f -a "du" -d 'The space used: journal, cached .debs, repository objects; on a machine also /boot and what each deployment holds of its own'
complete -c particle -n "__fish_particle_needs_command" -f -a "why" -d 'Why a package is installed: the request and the dependency chain'
complete -c particle -n "__fish_particle_needs_command" -f -a "replay" -d 'Rebuild every commit from the journal and the store into a fresh state directory, or from a published journal (--from) on any machine'
complete -c particle -n "__fish_particle_needs_command" -f -a "publish" -d 'Publish variants\' heads to an archive-mode OSTree repository any static web server can serve: commits, static deltas, the summary, signatures, and the journal behind them'
complete -c particle -n "__fish_particle_needs_command" -f -a "solve" -d 'Solve a request over Debian indices, or over the pinned sources of the state directory'
complete -c particle -n "__fish_particle_needs_command" -f -a "edsp" -d 'Be apt\'s external solver: EDSP 0.5 on stdin, the answer on stdout (docs/solver.md)'
complete -c particle -n "__fish_particle_needs_command" -f -a "generate-docs" -d 'Write man pages and shell completions into DIR (for packaging; docs/ holds a copy)'
complete -c particle -n "__fish_particle_needs_command" -f -a "distcheck" -d 'Check every package of the indices for installability, like dose-distcheck'
complete -c particle -n "__fish_particle_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand init" -l variant -d 'Name of the first variant' -r
complete -c particle -n "__fish_particle_using_subcommand init" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand init" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand init" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand init" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand init" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand init" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand init" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -f -a "add" -d 'Add an archive source'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -f -a "import-apt" -d 'Import deb822 .sources files (default: the host\'s apt sources)'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -f -a "list" -d 'List sources and their pinned snapshots'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -f -a "policy" -d 'Pin priorities: every index file\'s, or each package\'s candidate and versions (as apt-cache policy; preferences in <root>/preferences and <root>/preferences.d/)'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -f -a "update" -d 'Fetch and verify InRelease and indices for every source; pin the result'
complete -c particle -n "__fish_particle_using_subcommand repo; and not __fish_seen_subcommand_from add import-apt list policy update help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l uri -d 'Archive root: file:///..., http://... or https://...' -r
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l suite -d 'Suite or codename (e.g. bookworm)' -r
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l component -d 'Components (repeatable; default main)' -r
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l arch -d 'Architectures (repeatable; default amd64)' -r
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l keyring -d 'OpenPGP keyring that signs the archive\'s InRelease' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l priority -d 'apt pin priority of every index of the source (default 500, or 1 for a Release marked NotAutomatic, 100 with ButAutomaticUpgrades)' -r
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from import-apt" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from import-apt" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from import-apt" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from import-apt" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from import-apt" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from import-apt" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from import-apt" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from list" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from list" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from policy" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from policy" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from policy" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from policy" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from policy" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from policy" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from policy" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from policy" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from update" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from update" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from update" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from update" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add an archive source'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "import-apt" -d 'Import deb822 .sources files (default: the host\'s apt sources)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "list" -d 'List sources and their pinned snapshots'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "policy" -d 'Pin priorities: every index file\'s, or each package\'s candidate and versions (as apt-cache policy; preferences in <root>/preferences and <root>/preferences.d/)'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "update" -d 'Fetch and verify InRelease and indices for every source; pin the result'
complete -c particle -n "__fish_particle_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -f -a "verify" -d 'Re-hash every stored object; exit 1 naming the first bad one'
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -f -a "fetch" -d 'Fetch and verify packages (PKG or PKG=VERSION) into the store without a transaction'
complete -c particle -n "__fish_particle_using_subcommand store; and not __fish_seen_subcommand_from verify fetch help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from verify" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from verify" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from verify" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from fetch" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from fetch" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from fetch" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from fetch" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from fetch" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from fetch" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from fetch" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Re-hash every stored object; exit 1 naming the first bad one'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "fetch" -d 'Fetch and verify packages (PKG or PKG=VERSION) into the store without a transaction'
complete -c particle -n "__fish_particle_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "install" -d 'Install packages (PKG or PKG=VERSION) and their dependencies'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "remove" -d 'Remove packages (and what depends on them)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "upgrade" -d 'Upgrade every package to the newest pinned version'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "rollback" -d 'Append a transaction whose state equals TXN\'s (default: the state before the head; on a machine, the rollback deployment, made the default without a rebuild)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "cancel" -d 'On a running machine: drop the deployment staged for the next boot (recorded as a return to the booted transaction)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "kargs" -d 'Change kernel arguments'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "initramfs" -d 'Change initramfs-tools settings (KEY= removes a key)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "sysctl" -d 'Change sysctl settings (KEY= removes a key)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "hardware" -d 'Record the hardware profile, detected from this machine or read from a JSON file'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "log" -d 'The variant\'s transactions, oldest first (with --json: one transaction per line)'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "show" -d 'One transaction in full'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "diff" -d 'What differs between two transactions\' states'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "bisect" -d 'Find the first bad transaction between a good and a bad one'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "verify" -d 'Check the hash chain and that every recorded commit exists and passes fsck'
complete -c particle -n "__fish_particle_using_subcommand txn; and not __fish_seen_subcommand_from install remove upgrade rollback cancel kargs initramfs sysctl hardware log show diff bisect verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -l no-recommends -d 'Do not install Recommends'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -l dry-run -d 'Print what would change and stop'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -l dry-run -d 'Print what would change and stop'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -l dry-run
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from upgrade" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -l to -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -l dry-run
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from rollback" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from cancel" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -l append -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -l delete -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from kargs" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -l set -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from initramfs" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -l set -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from sysctl" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -l variant -d 'The variant to change (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -l from -d 'A JSON profile (tests use fixtures)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -l detect -d 'Read PCI devices, CPU, storage, network and audio from sysfs and procfs'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from hardware" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -l package -d 'Only transactions that changed this package' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -l since -d 'Only transactions at or after this time (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS UTC, or unix seconds)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -l until -d 'Only transactions at or before this time' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -s n -l last -d 'Only the last N of them (work and output proportional to N, not to the history)' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from log" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from show" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from show" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from show" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from diff" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from diff" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from diff" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -l good -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -l bad -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -l run -d 'Command run with PARTICLE_CHECKOUT set; exit 0 good, 125 skip, else bad' -r
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from bisect" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from verify" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from verify" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from verify" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install packages (PKG or PKG=VERSION) and their dependencies'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove packages (and what depends on them)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "upgrade" -d 'Upgrade every package to the newest pinned version'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "rollback" -d 'Append a transaction whose state equals TXN\'s (default: the state before the head; on a machine, the rollback deployment, made the default without a rebuild)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'On a running machine: drop the deployment staged for the next boot (recorded as a return to the booted transaction)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "kargs" -d 'Change kernel arguments'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "initramfs" -d 'Change initramfs-tools settings (KEY= removes a key)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "sysctl" -d 'Change sysctl settings (KEY= removes a key)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "hardware" -d 'Record the hardware profile, detected from this machine or read from a JSON file'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "log" -d 'The variant\'s transactions, oldest first (with --json: one transaction per line)'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "show" -d 'One transaction in full'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "diff" -d 'What differs between two transactions\' states'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "bisect" -d 'Find the first bad transaction between a good and a bad one'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the hash chain and that every recorded commit exists and passes fsck'
complete -c particle -n "__fish_particle_using_subcommand txn; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -f -a "list" -d 'List variants'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -f -a "create" -d 'Create a variant, empty or from a parent\'s state (at TXN, default the parent\'s head)'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -f -a "apply" -d 'Turn a variant definition file into transactions (applying it twice adds nothing)'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -f -a "rebase" -d 'Rebuild CHILD on its parent\'s head, keeping CHILD\'s own changes and recording provenance'
complete -c particle -n "__fish_particle_using_subcommand variant; and not __fish_seen_subcommand_from list create apply rebase help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from list" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from list" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -l from -d 'PARENT or PARENT@TXN' -r
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -l dry-run -d 'Print what would change and stop'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from apply" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -l dry-run -d 'Print what would change and stop'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from rebase" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from help" -f -a "list" -d 'List variants'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a variant, empty or from a parent\'s state (at TXN, default the parent\'s head)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Turn a variant definition file into transactions (applying it twice adds nothing)'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from help" -f -a "rebase" -d 'Rebuild CHILD on its parent\'s head, keeping CHILD\'s own changes and recording provenance'
complete -c particle -n "__fish_particle_using_subcommand variant; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand compose" -l dir -d 'A directory of variant definitions (*.toml); default: the definitions last applied' -r -F
complete -c particle -n "__fish_particle_using_subcommand compose" -l reason -d 'Why: recorded in the journal' -r
complete -c particle -n "__fish_particle_using_subcommand compose" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand compose" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand compose" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand compose" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand compose" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand compose" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand compose" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand deploy" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand deploy" -l stateroot -d 'The OSTree stateroot (os name) to deploy into' -r
complete -c particle -n "__fish_particle_using_subcommand deploy" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand deploy" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand deploy" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand deploy" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand deploy" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand deploy" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand deploy" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand image" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand image" -l format -r -f -a "raw\t''
qcow2\t''"
complete -c particle -n "__fish_particle_using_subcommand image" -l firmware -d 'The firmware the disk boots with (default: both BIOS and UEFI)' -r -f -a "bios\t''
uefi\t''
both\t''"
complete -c particle -n "__fish_particle_using_subcommand image" -l size -d 'Disk size (bytes, or with K, M, G, T); default: twice the tree plus 512 MiB' -r
complete -c particle -n "__fish_particle_using_subcommand image" -l karg -d 'A host kernel argument (e.g. console=ttyS0,115200), kept in the image\'s /etc/particle/host-kargs and never in the variant\'s journal; repeatable' -r
complete -c particle -n "__fish_particle_using_subcommand image" -l root-password-hash -d 'root\'s password in the image, as a crypt(3) hash (`openssl passwd -6`); default: locked, as Debian ships it' -r
complete -c particle -n "__fish_particle_using_subcommand image" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand image" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand image" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand image" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand image" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand image" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand image" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -f -a "oci" -d 'Write an OCI image layout of the variant\'s commit (reproducible, labelled)'
complete -c particle -n "__fish_particle_using_subcommand export; and not __fish_seen_subcommand_from oci help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -l repo-url -d 'The value of the org.osbuild.ostree.repo label (default: file:// and the repository\'s path)' -r
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -l compression-level -d 'gzip level of the layer, 1 (fastest) to 9 (smallest); part of what makes the digest' -r
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from oci" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from help" -f -a "oci" -d 'Write an OCI image layout of the variant\'s commit (reproducible, labelled)'
complete -c particle -n "__fish_particle_using_subcommand export; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand push" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand push" -l repo-url -d 'The value of the org.osbuild.ostree.repo label (default: file:// and the repository\'s path)' -r
complete -c particle -n "__fish_particle_using_subcommand push" -l compression-level -d 'gzip level of the layer, 1 (fastest) to 9 (smallest); part of what makes the digest' -r
complete -c particle -n "__fish_particle_using_subcommand push" -l sign-key -d 'A sigstore private key (`particle key generate --sigstore`) to sign the image with' -r -F
complete -c particle -n "__fish_particle_using_subcommand push" -l passphrase-file -d 'The key\'s passphrase: the first line of FILE (default: empty)' -r -F
complete -c particle -n "__fish_particle_using_subcommand push" -l tls-verify -d 'Require HTTPS with a verified certificate (--tls-verify=false: plain HTTP too)' -r -f -a "true\t''
false\t''"
complete -c particle -n "__fish_particle_using_subcommand push" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand push" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand push" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand push" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand push" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand push" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand push" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand pull" -l policy -d 'The policy (default: ~/.config/containers/policy.json, else /etc/containers/policy.json)' -r -F
complete -c particle -n "__fish_particle_using_subcommand pull" -l tls-verify -d 'Require HTTPS with a verified certificate (--tls-verify=false: plain HTTP too)' -r -f -a "true\t''
false\t''"
complete -c particle -n "__fish_particle_using_subcommand pull" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand pull" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand pull" -l check -d 'Only verify: exit 0 if the policy accepts the image, 1 if not; copy nothing'
complete -c particle -n "__fish_particle_using_subcommand pull" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand pull" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand pull" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand pull" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand pull" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -f -a "generate" -d 'Write a new key pair: PREFIX.key (private, encrypted) and PREFIX.pub'
complete -c particle -n "__fish_particle_using_subcommand key; and not __fish_seen_subcommand_from generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -l sigstore -d 'A sigstore (cosign-format) P-256 pair, for `push --sign-key` and policy.json\'s sigstoreSigned' -r -F
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -l passphrase-file -d 'The passphrase to encrypt the private key with: the first line of FILE (default: empty)' -r -F
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from generate" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Write a new key pair: PREFIX.key (private, encrypted) and PREFIX.pub'
complete -c particle -n "__fish_particle_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand delta" -l output -d 'Also write the delta as one self-contained file' -r -F
complete -c particle -n "__fish_particle_using_subcommand delta" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand delta" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand delta" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand delta" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand delta" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand delta" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand delta" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand status" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand status" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand status" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand status" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand status" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand status" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand status" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand status" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -f -a "add" -d 'Add (or replace) a remote: a repository `publish` wrote'
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -f -a "list" -d 'List the remotes'
complete -c particle -n "__fish_particle_using_subcommand remote; and not __fish_seen_subcommand_from add list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from add" -l sign-key -d 'The publisher\'s public keyring: published indices, commits and summaries must carry good signatures by its keys (without it nothing the remote serves is checked)' -r -F
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from add" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from add" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from add" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from add" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from list" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from list" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add (or replace) a remote: a repository `publish` wrote'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the remotes'
complete -c particle -n "__fish_particle_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l remote -d 'The remote (default: the machine\'s only one)' -r
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l bundle -d 'Apply an update bundle (`particle bundle`) instead of pulling: for machines without a network' -r -F
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l keyring -d 'With --bundle: the publisher\'s keyring (default: the keyrings of the machine\'s remotes)' -r -F
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l check -d 'Only say whether an update is available: exit 0 if so, 77 if not'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l preview -d 'Print the package and profile changes from the published journal, download nothing'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l download-only -d 'Pull the new commit into the sysroot\'s repository, record and deploy nothing'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l allow-downgrade -d 'Take an offer older than what the machine runs'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l auto -d 'What particle-upgrade.timer runs: act on the policy of /etc/particle/updates.conf (`policy = none|check|stage`, optional `remote = NAME`; none when missing)'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand upgrade" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand bundle" -l sign-key -d 'An OpenPGP secret key file (no passphrase) to sign the bundle\'s index with' -r -F
complete -c particle -n "__fish_particle_using_subcommand bundle" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand bundle" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand bundle" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand bundle" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand bundle" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand bundle" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand bundle" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand gc" -l keep -d 'Also keep what the last N transactions need' -r
complete -c particle -n "__fish_particle_using_subcommand gc" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand gc" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand gc" -l dry-run -d 'Only say what would be removed'
complete -c particle -n "__fish_particle_using_subcommand gc" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand gc" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand gc" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand gc" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand gc" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand du" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand du" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand du" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand du" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand du" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand du" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand du" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand why" -l variant -d 'The variant (default: base; on a machine, the variant it runs)' -r
complete -c particle -n "__fish_particle_using_subcommand why" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand why" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand why" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand why" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand why" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand why" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand why" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand replay" -l variant -r
complete -c particle -n "__fish_particle_using_subcommand replay" -l upto -d 'Stop at this transaction (sequence number or id prefix)' -r
complete -c particle -n "__fish_particle_using_subcommand replay" -l into -d 'The fresh state directory to build into (with --from: a temporary one by default)' -r -F
complete -c particle -n "__fish_particle_using_subcommand replay" -l from -d 'A repository `publish` wrote (file://, http://, https:// or a path): its journal is replayed, its .debs fetched from its sources by their recorded SHA256' -r
complete -c particle -n "__fish_particle_using_subcommand replay" -l keyring -d 'With --from: the publisher\'s keyring; published.json must carry a good signature' -r -F
complete -c particle -n "__fish_particle_using_subcommand replay" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand replay" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand replay" -l verify -d 'Exit 1 unless every rebuilt commit equals the recorded one'
complete -c particle -n "__fish_particle_using_subcommand replay" -l dry-run -d 'With --from: check the index, its signature, the journal, the commits and the sources, find every recorded package in them; fetch and build nothing'
complete -c particle -n "__fish_particle_using_subcommand replay" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand replay" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand replay" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand replay" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand replay" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand publish" -l variant -d 'A variant to publish (repeatable; default every variant with a transaction)' -r
complete -c particle -n "__fish_particle_using_subcommand publish" -l repo -d 'The repository (created when missing or empty)' -r -F
complete -c particle -n "__fish_particle_using_subcommand publish" -l sign-key -d 'An OpenPGP secret key file (no passphrase): commits, summary and journal index are signed with it; stock `ostree pull` verifies them with gpg-verify=true' -r -F
complete -c particle -n "__fish_particle_using_subcommand publish" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand publish" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand publish" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand publish" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand publish" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand publish" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand publish" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -l index -d 'Packages files (plain, .xz or .gz); without any, the pinned universe of --root' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -l installed -d 'A dpkg status file: the installed set' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -l no-recommends -d 'Do not install Recommends'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -f -a "install" -d 'Install packages (PKG or PKG=VERSION)'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -f -a "remove" -d 'Remove packages'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -f -a "upgrade" -d 'Upgrade everything installed'
complete -c particle -n "__fish_particle_using_subcommand solve; and not __fish_seen_subcommand_from install remove upgrade help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from install" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from install" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from install" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from install" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from remove" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from remove" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from remove" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from upgrade" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from upgrade" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from upgrade" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from upgrade" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from upgrade" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from upgrade" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from upgrade" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install packages (PKG or PKG=VERSION)'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove packages'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from help" -f -a "upgrade" -d 'Upgrade everything installed'
complete -c particle -n "__fish_particle_using_subcommand solve; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand edsp" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand edsp" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand edsp" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand edsp" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand edsp" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand edsp" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand edsp" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand generate-docs" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand generate-docs" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand generate-docs" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand generate-docs" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand generate-docs" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand generate-docs" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand generate-docs" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand distcheck" -l index -r -F
complete -c particle -n "__fish_particle_using_subcommand distcheck" -l root -d 'State directory (default: $PARTICLE_ROOT, else /var/lib/particle)' -r -F
complete -c particle -n "__fish_particle_using_subcommand distcheck" -l sysroot -d 'The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status` lists its deployments, `deploy` deploys into it (initialized if needed)' -r -F
complete -c particle -n "__fish_particle_using_subcommand distcheck" -l json -d 'Print exactly one JSON document on stdout (errors too)'
complete -c particle -n "__fish_particle_using_subcommand distcheck" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c particle -n "__fish_particle_using_subcommand distcheck" -s q -l quiet -d 'Only errors on stderr'
complete -c particle -n "__fish_particle_using_subcommand distcheck" -s h -l help -d 'Print help'
complete -c particle -n "__fish_particle_using_subcommand distcheck" -s V -l version -d 'Print version'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "init" -d 'Create the state directory and the first variant'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "repo" -d 'Archive sources: add, import from apt, list, update'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "store" -d 'The content-addressed package store'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "txn" -d 'Transactions: install, remove, upgrade, rollback, profiles, history'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "variant" -d 'Variants: the OS flavours built from this state directory'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "compose" -d 'Build every defined variant, parents first (apply each definition, rebase children)'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "deploy" -d 'Deploy a variant\'s commit into an OSTree sysroot (--sysroot DIR) with its recorded kernel arguments and the machine\'s own'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "image" -d 'Write a bootable disk image of a variant\'s head commit (GRUB for BIOS and UEFI, an OSTree sysroot with the commit deployed); OUT is complete or absent'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "export" -d 'Export a variant\'s commit'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "push" -d 'Push a variant\'s head as an OCI image to a registry with skopeo, tagged latest and with its transaction id, signed with a sigstore key when given'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "pull" -d 'Copy an image from a registry into an OCI image layout DIR only if the signature policy (containers-policy.json) accepts it; particle verifies sigstore signatures itself'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "key" -d 'Signing keys'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "delta" -d 'Generate a static delta between two transactions\' commits'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "status" -d 'Each variant\'s head transaction, commit, package count and profile'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "remote" -d 'A machine\'s remotes: the repositories `publish` wrote that it upgrades from'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "upgrade" -d 'Pull the variant this machine runs from its remote, verify it, and stage it (deploy it offline) with the machine\'s own packages re-applied'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "bundle" -d 'Write an update bundle: the static delta between two transactions\' commits of one variant, the journal\'s records after FROM up to TO, and a signed index, in one file'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "gc" -d 'Remove commits and cached .debs that no variant head, deployment or recent transaction needs (the journal is never pruned: any state is rebuilt from it)'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "du" -d 'The space used: journal, cached .debs, repository objects; on a machine also /boot and what each deployment holds of its own'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "why" -d 'Why a package is installed: the request and the dependency chain'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "replay" -d 'Rebuild every commit from the journal and the store into a fresh state directory, or from a published journal (--from) on any machine'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "publish" -d 'Publish variants\' heads to an archive-mode OSTree repository any static web server can serve: commits, static deltas, the summary, signatures, and the journal behind them'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "solve" -d 'Solve a request over Debian indices, or over the pinned sources of the state directory'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "edsp" -d 'Be apt\'s external solver: EDSP 0.5 on stdin, the answer on stdout (docs/solver.md)'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "generate-docs" -d 'Write man pages and shell completions into DIR (for packaging; docs/ holds a copy)'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "distcheck" -d 'Check every package of the indices for installability, like dose-distcheck'
complete -c particle -n "__fish_particle_using_subcommand help; and not __fish_seen_subcommand_from init repo store txn variant compose deploy image export push pull key delta status remote upgrade bundle gc du why replay publish solve edsp generate-docs distcheck help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "add" -d 'Add an archive source'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "import-apt" -d 'Import deb822 .sources files (default: the host\'s apt sources)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "list" -d 'List sources and their pinned snapshots'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "policy" -d 'Pin priorities: every index file\'s, or each package\'s candidate and versions (as apt-cache policy; preferences in <root>/preferences and <root>/preferences.d/)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "update" -d 'Fetch and verify InRelease and indices for every source; pin the result'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "verify" -d 'Re-hash every stored object; exit 1 naming the first bad one'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "fetch" -d 'Fetch and verify packages (PKG or PKG=VERSION) into the store without a transaction'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "install" -d 'Install packages (PKG or PKG=VERSION) and their dependencies'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "remove" -d 'Remove packages (and what depends on them)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "upgrade" -d 'Upgrade every package to the newest pinned version'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "rollback" -d 'Append a transaction whose state equals TXN\'s (default: the state before the head; on a machine, the rollback deployment, made the default without a rebuild)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "cancel" -d 'On a running machine: drop the deployment staged for the next boot (recorded as a return to the booted transaction)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "kargs" -d 'Change kernel arguments'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "initramfs" -d 'Change initramfs-tools settings (KEY= removes a key)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "sysctl" -d 'Change sysctl settings (KEY= removes a key)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "hardware" -d 'Record the hardware profile, detected from this machine or read from a JSON file'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "log" -d 'The variant\'s transactions, oldest first (with --json: one transaction per line)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "show" -d 'One transaction in full'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "diff" -d 'What differs between two transactions\' states'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "bisect" -d 'Find the first bad transaction between a good and a bad one'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from txn" -f -a "verify" -d 'Check the hash chain and that every recorded commit exists and passes fsck'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from variant" -f -a "list" -d 'List variants'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from variant" -f -a "create" -d 'Create a variant, empty or from a parent\'s state (at TXN, default the parent\'s head)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from variant" -f -a "apply" -d 'Turn a variant definition file into transactions (applying it twice adds nothing)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from variant" -f -a "rebase" -d 'Rebuild CHILD on its parent\'s head, keeping CHILD\'s own changes and recording provenance'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from export" -f -a "oci" -d 'Write an OCI image layout of the variant\'s commit (reproducible, labelled)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "generate" -d 'Write a new key pair: PREFIX.key (private, encrypted) and PREFIX.pub'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "add" -d 'Add (or replace) a remote: a repository `publish` wrote'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "list" -d 'List the remotes'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from solve" -f -a "install" -d 'Install packages (PKG or PKG=VERSION)'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from solve" -f -a "remove" -d 'Remove packages'
complete -c particle -n "__fish_particle_using_subcommand help; and __fish_seen_subcommand_from solve" -f -a "upgrade" -d 'Upgrade everything installed'
