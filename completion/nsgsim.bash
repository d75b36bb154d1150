# bash completion for nsgsim(1).  make install puts it where bash-completion
# loads it on demand: $(PREFIX)/share/bash-completion/completions/nsgsim.
# Self-contained (no bash-completion helpers needed), so it also works when
# sourced directly:  . completion/nsgsim.bash

_nsgsim_commands="effective eval reach diff matrix check list lint show snapshot-tags compile replay version"
_nsgsim_checks="shadowed-rule never-decides unattached-nsg unused-asg empty-network-group no-filtering broad-always-allow exposed-port open-to-any"
_nsgsim_protocols="tcp udp icmp esp ah"
_nsgsim_list_kinds="nics subnets nsgs asgs managers"
# The options that take a value (the next word).
_nsgsim_valued=" --env --policy -o --output --service-tags --format --engine --at --direction --flows --to --from
 --protocol --before --after --after-service-tags --fail-on --junit --sarif --only --skip
 --parameters --subscription --resource-group --location --by --html --jobs -j "

_nsgsim_options()
{
	case $1 in
	effective) echo "--env --policy --service-tags --format --parameters --subscription --resource-group --location -q --quiet --help" ;;
	eval) echo "--env --policy --service-tags --json -v --verbose --engine --at --direction --flows --format -j --jobs --parameters --subscription --resource-group --location -q --quiet --help" ;;
	reach) echo "--env --policy --service-tags --to --from --protocol --allowed-only --json --parameters --subscription --resource-group --location -q --quiet --help" ;;
	compile) echo "--env --policy --service-tags -o --output --parameters --subscription --resource-group --location -q --quiet --help" ;;
	diff) echo "--before --after --service-tags --after-service-tags --to --from --protocol --rules --json --fail-on --parameters --subscription --resource-group --location -q --quiet --help" ;;
	matrix) echo "--env --policy --service-tags --by --json --html --parameters --subscription --resource-group --location -q --quiet --help" ;;
	check) echo "--env --policy --service-tags --junit --json -v --verbose --allow-unassigned --parameters --subscription --resource-group --location -q --quiet --help" ;;
	list) echo "--env --policy --service-tags --json --parameters --subscription --resource-group --location -q --quiet --help" ;;
	lint) echo "--env --policy --service-tags --json --sarif --only --skip --fail-on -j --jobs --parameters --subscription --resource-group --location -q --quiet --help" ;;
	show) echo "--env --policy --service-tags --json --parameters --subscription --resource-group --location -q --quiet --help" ;;
	replay) echo "--env --policy --service-tags --after --json --junit -j --jobs --parameters --subscription --resource-group --location -q --quiet --help" ;;
	snapshot-tags | version) echo "--help" ;;
	esac
}

# COMPREPLY = the words of $1 that start with $2.
_nsgsim_words()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# COMPREPLY = the file (and directory) names that start with $1.
_nsgsim_files()
{
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_nsgsim()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd i
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	if ((COMP_CWORD <= 1)); then
		_nsgsim_words "$_nsgsim_commands --help --version" "$cur"
		return 0
	fi
	cmd=${COMP_WORDS[1]}
	# --format=json: bash splits it at '=' (COMP_WORDBREAKS) into three words.
	if [[ $cur == = ]]; then
		cur=''
	elif [[ $prev == = ]] && ((COMP_CWORD >= 3)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# The value of an option.
	case $prev in
	--env | --policy | -o | --output | --before | --after | --service-tags | --after-service-tags | --flows | --junit | --sarif | --parameters | --html)
		_nsgsim_files "$cur"
		return 0
		;;
	--format)
		if [[ $cmd == eval ]]; then
			_nsgsim_words "tsv csv json" "$cur"
		else
			_nsgsim_words "json table" "$cur"
		fi
		return 0
		;;
	--engine) _nsgsim_words "linear compiled" "$cur"; return 0 ;;
	--by) _nsgsim_words "subnet nic asg" "$cur"; return 0 ;;
	--direction) _nsgsim_words "inbound outbound" "$cur"; return 0 ;;
	--jobs | -j) _nsgsim_words "1 2 4 8" "$cur"; return 0 ;;
	--fail-on)
		if [[ $cmd == lint ]]; then
			_nsgsim_words "error warning note" "$cur"
		else
			_nsgsim_words "opened closed any" "$cur"
		fi
		return 0
		;;
	--only | --skip)
		local picked=''
		[[ $cur == *,* ]] && picked=${cur%,*},
		mapfile -t COMPREPLY < <(compgen -P "$picked" -W "$_nsgsim_checks" -- "${cur##*,}")
		return 0
		;;
	--protocol)
		# A comma-separated list: complete the last element.
		local done=''
		[[ $cur == *,* ]] && done=${cur%,*},
		mapfile -t COMPREPLY < <(compgen -P "$done" -W "$_nsgsim_protocols" -- "${cur##*,}")
		return 0
		;;
	--to | --from | --at) return 0 ;; # a NIC, subnet, address or tag of the input
	esac

	if [[ $cur == -* ]]; then
		_nsgsim_words "$(_nsgsim_options "$cmd")" "$cur"
		return 0
	fi

	# A positional argument: how many come before this one, and which
	# option came last?
	local npos=0 last=''
	for ((i = 2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		=) ((i++)) ;; # --opt=value: the value
		-*)
			last=${COMP_WORDS[i]}
			[[ ${COMP_WORDS[i + 1]} != = && $_nsgsim_valued == *" $last "* ]] && ((i++))
			;;
		*) ((npos++)) ;;
		esac
	done
	case $cmd in
	# They take no positional argument: --env/--before/--after PATH... take
	# every path up to the next option.
	reach | diff | matrix | lint | show | compile) [[ $last == --env || $last == --before || $last == --after ]] && _nsgsim_files "$cur" ;;
	list) ((npos == 0)) && _nsgsim_words "$_nsgsim_list_kinds" "$cur" ;;
	eval) ((npos == 0)) && _nsgsim_words "$_nsgsim_protocols" "$cur" ;;
	check | replay) _nsgsim_files "$cur" ;;
	snapshot-tags) ((npos < 2)) && _nsgsim_files "$cur" ;;
	esac
	return 0
}

complete -F _nsgsim nsgsim
