/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/help.h"
#include "client/http.h"

/* Options every command takes. */
static const char GLOBAL[] = " url token user config json quiet verbose help ";

static const struct {
    const char *name;
    const char *options; /* space-separated, with a space at each end */
    const char *text;
} HELP[] = {
    {"sources", " label format tag limit ",
     "usage: tams sources list [--label L] [--format URN] [--tag NAME[=VALUE]]...\n"
     "       tams sources show ID\n\n"
     "List the store's sources (every page, following the server's paging links) or show one.\n"
     "--tag NAME=VALUE keeps sources with that tag value, --tag NAME those that have the tag.\n"},
    {"flows", " label format codec source tag limit ",
     "usage: tams flows list [--label L] [--format URN] [--codec MIME] [--source ID]\n"
     "                       [--tag NAME[=VALUE]]...\n"
     "       tams flows show ID\n\n"
     "List flows matching every filter given (every page) or show one flow.\n"},
    {"segments", " timerange limit ",
     "usage: tams segments list FLOW [--timerange TR]\n\n"
     "List a flow's segments in time order, within TR when given (TAMS timerange syntax,\n"
     "e.g. '[0:0_10:0)').\n"},
    {"delete", " ",
     "usage: tams delete flow ID\n"
     "       tams delete source ID\n\n"
     "Delete a flow with its segments; the server may do it in the background (a deletion\n"
     "request). TAMS has no deletion of sources: 'delete source' deletes every flow of the\n"
     "source, after which the source is gone.\n"},
    {"webhooks", " events flow-id api-key-name api-key-value ",
     "usage: tams webhooks list\n"
     "       tams webhooks add URL --events EVENT[,EVENT...] [--flow-id ID]...\n"
     "                             [--api-key-name NAME --api-key-value VALUE]\n"
     "       tams webhooks remove URL|ID [--api-key-name NAME --api-key-value VALUE]\n\n"
     "Events: flows/created, flows/updated, flows/deleted, flows/segments_added,\n"
     "flows/segments_deleted, sources/created, sources/updated, sources/deleted.\n"
     "TAMS 7.0: 'remove URL' registers the same URL and key with no events, which 7.0 defines as\n"
     "removal. TAMS 8.x (the server's /service api_version): 'list' shows each webhook's id and\n"
     "'remove' deletes by id, given or found by URL.\n"},
    {"ingest", " label source segment-duration container live live-buffer ",
     "usage: tams ingest FILE [--label L] [--source ID] [--segment-duration SECONDS]\n"
     "                        [--container ts|mp4]\n"
     "       tams ingest --live INPUT [--live-buffer SIZE] [same options]\n\n"
     "Put a media file in the store: a source, one flow per video or audio stream with its\n"
     "essence parameters read from the media, and a multi-essence flow collecting them. The\n"
     "media is cut at video keyframes about every SECONDS (default 2) without re-encoding,\n"
     "each stream as MPEG-TS (default) or fragmented MP4, uploaded through the flow's storage\n"
     "and registered with the timerange of its own timestamps, so segments are contiguous.\n"
     "The IDs are derived from the file's content (and --source), so running the same ingest\n"
     "again resumes it: segments already registered are skipped. --json prints\n"
     "{\"source_id\": ..., \"flow_ids\": [...]}.\n\n"
     "tams ingest --live INPUT takes anything FFmpeg reads (a UDP/SRT/RTP/HLS URL, or a file,\n"
     "read at its native rate) and registers each segment as soon as it is complete. A server\n"
     "that is away is retried with backoff (up to 5 minutes a segment) while the input goes on\n"
     "being read: up to SIZE of segments (default 256M; k, M, G) wait in memory for their\n"
     "upload, after which reading pauses. SIGINT or SIGTERM stops it cleanly, every segment\n"
     "begun finished and registered.\n"},
    {"export", " timerange output allow-gaps exact ",
     "usage: tams export ID [--timerange TR] -o OUT [--allow-gaps] [--exact]\n\n"
     "Get media back out: the segments of flow ID (every flow it collects, for a multi-essence\n"
     "flow; the flows of the source, when ID is a source) that overlap TR, fetched through\n"
     "their get_urls (another URL is tried when one fails) and remuxed without re-encoding into\n"
     "one file, MPEG-TS, MP4 or Matroska by OUT's extension (.ts, .mp4, .mkv), with timestamps\n"
     "from zero. The file starts and ends at segment boundaries, so it may begin a little\n"
     "before TR and end a little after. A gap between segments is refused, naming it, unless\n"
     "--allow-gaps is given. --exact cuts the video to the frame at TR's ends instead (the\n"
     "GOPs they cut through decoded and encoded again with the same codec, all others\n"
     "copied) and the other flows to the sample.\n"},
    {"copy", " from to timerange first-value ",
     "usage: tams copy ID --from URL --to URL [--timerange TR] [--first-value]\n\n"
     "Copy flow ID (with the flows it collects), or every flow of source ID, from one TAMS\n"
     "server to another: the flow documents, the sources' labels and descriptions, and the\n"
     "segments (within TR when given) with their media objects, every segment field kept but\n"
     "object_id and get_urls. --token or --user authenticate to both. A segment the destination\n"
     "has already (same timerange) is skipped, so running it again resumes a copy.\n"
     "A TAMS 7.0 server keeps one value per tag: copying to one a flow whose tag holds a list\n"
     "of several values (TAMS 8.2) is refused, naming flow and tag, before anything is\n"
     "written, unless --first-value keeps the first value; a list of one value is copied as\n"
     "that value.\n"},
};

static const char OVERVIEW[] =
    "usage: tams [--url URL] [--token TOKEN | --user USER] [--json] [--quiet] [--verbose]\n"
    "            COMMAND [ARGS]\n\n"
    "A client for TAMS 7.0 and 8.2 servers (Time-addressable Media Store); --url may name a\n"
    "version's base, such as http://host:8080/tams/v8.2.\n\n"
    "commands:\n"
    "  sources list|show    the store's sources\n"
    "  flows list|show      flows, filtered by label, tag, format, codec, source\n"
    "  segments list FLOW   a flow's segments, optionally within a timerange\n"
    "  delete flow|source   remove a flow, or every flow of a source\n"
    "  webhooks             list, add or remove webhook registrations\n"
    "  ingest FILE          put a media file in the store\n"
    "  export ID -o OUT     get a flow or source back out as one file\n"
    "  copy ID --to URL     copy flows and segments to another server\n"
    "  help [COMMAND]       this text, or a command's\n"
    "  version              the client's version\n\n"
    "connection (option, else environment, else config file):\n"
    "  --url URL            TAMS_URL       the server's API base, e.g. http://127.0.0.1:4010\n"
    "  --token TOKEN        TAMS_TOKEN     a bearer token\n"
    "  --user USER          TAMS_USER      HTTP Basic; the password from TAMS_PASSWORD, else\n"
    "                                      asked on the terminal\n"
    "  --config FILE        TAMS_CONFIG    default ~/.config/tams/config: lines 'url = ...',\n"
    "                                      'token = ...', 'user = ...', 'password = ...'\n\n"
    "output: tables for people; --json prints the server's JSON, one document, or one\n"
    "element per line for lists (all pages). --quiet: errors only; --verbose: each request.\n\n"
    "exit status: 0 done, 1 local failure (file, media), 2 usage, 3 server unreachable,\n"
    "4 authentication refused (401/403), 5 not found (404), 6 request refused (other 4xx),\n"
    "7 server failure (5xx or not a TAMS answer).\n";

int tams_help(FILE *f, const char *command)
{
    if (!command) {
        fputs(OVERVIEW, f);
        return TAMS_EXIT_OK;
    }
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(HELP); i++)
        if (strcmp(HELP[i].name, command) == 0) {
            fputs(HELP[i].text, f);
            return TAMS_EXIT_OK;
        }
    fprintf(stderr, "tams: no command '%s' (see 'tams help')\n", command);
    return TAMS_EXIT_USAGE;
}

static bool in_list(const char *list, const char *option)
{
    size_t n = strlen(option);
    for (const char *p = strstr(list, option); p; p = strstr(p + 1, option))
        if (p[-1] == ' ' && p[n] == ' ')
            return true;
    return false;
}

bool tams_help_allows(const char *command, const char *option)
{
    if (in_list(GLOBAL, option))
        return true;
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(HELP); i++)
        if (strcmp(HELP[i].name, command) == 0)
            return in_list(HELP[i].options, option);
    return false;
}
