package dev.secondsite.nbd;

/**
 * The constants of the NBD protocol (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md)
 * that {@link NbdServer} speaks: the fixed-newstyle handshake, simple replies, and the commands READ,
 * WRITE, FLUSH, WRITE_ZEROES, TRIM (accepted, discards nothing) and DISC.
 */
final class NbdProtocol {
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    // handshake flags (server) and client flags
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 2;
    static final int CLIENT_FIXED_NEWSTYLE = 1;
    static final int CLIENT_NO_ZEROES = 2;

    // options
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;

    // option replies
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = (1 << 31) + 1;
    static final int REP_ERR_INVALID = (1 << 31) + 3;
    static final int REP_ERR_UNKNOWN = (1 << 31) + 6;

    // NBD_REP_INFO types
    static final int INFO_EXPORT = 0;
    static final int INFO_BLOCK_SIZE = 3;

    // transmission flags
    static final int TFLAG_HAS_FLAGS = 1;
    static final int TFLAG_READ_ONLY = 1 << 1;
    static final int TFLAG_SEND_FLUSH = 1 << 2;
    static final int TFLAG_SEND_FUA = 1 << 3;
    static final int TFLAG_SEND_TRIM = 1 << 5;
    static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;

    // commands and command flags
    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_FLAG_FUA = 1;

    // errors (errno values, as the protocol defines them)
    static final int EPERM = 1;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;

    /** Largest READ or WRITE payload accepted (also announced as NBD_INFO_BLOCK_SIZE's maximum). */
    static final int REQUEST_BYTES_MAX = 32 << 20;
    /** Largest option payload read during the handshake. */
    static final int OPTION_BYTES_MAX = 64 << 10;
    /** Preferred request size announced to clients. */
    static final int PREFERRED_BLOCK_BYTES = 4096;

    private NbdProtocol() {
    }
}
